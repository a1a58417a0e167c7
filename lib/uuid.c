/*
 * Version 4 UUIDs from the system's random source (lib/os.h).
 */
#include "lib/uuid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/os.h"

void st_uuid_new(char out[ST_UUID_LEN + 1])
{
    unsigned char b[16];

    if (st_os_random(b, sizeof(b)) < 0) {
        fputs("stint: the system's random source failed\n", stderr);
        abort();
    }
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, ST_UUID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

bool st_uuid_valid(const char *s)
{
    if (!s || strlen(s) != ST_UUID_LEN)
        return false;
    for (int i = 0; i < ST_UUID_LEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return false;
        }
    }
    return true;
}
