/*
 * Sends input the way a mouse jiggler or a remote-control tool does, with
 * SendInput, so that tests can check the Windows backend counts it as
 * synthetic (LLKHF_INJECTED / LLMHF_INJECTED).
 *
 *   sendinput KEYS CLICKS
 *     presses and releases the Shift key KEYS times (a key that types
 *     nothing, wherever focus is), then clicks the middle button CLICKS times
 *     where the pointer is; prints {"keys":KEYS,"clicks":CLICKS}. Exit 1 when
 *     Windows refused some of it.
 */
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>

#define MAX_EACH 1000

static int send_pair(INPUT *in)
{
    return SendInput(2, in, sizeof(INPUT)) == 2 ? 0 : -1;
}

int main(int argc, char **argv)
{
    int keys, clicks;

    if (argc != 3) {
        fprintf(stderr, "usage: sendinput KEYS CLICKS\n");
        return 2;
    }
    keys = atoi(argv[1]);
    clicks = atoi(argv[2]);
    if (keys < 0 || clicks < 0 || keys > MAX_EACH || clicks > MAX_EACH) {
        fprintf(stderr, "sendinput: KEYS and CLICKS go from 0 to %d\n", MAX_EACH);
        return 2;
    }
    for (int i = 0; i < keys; i++) {
        INPUT in[2] = {{.type = INPUT_KEYBOARD}, {.type = INPUT_KEYBOARD}};
        in[0].ki.wVk = VK_SHIFT;
        in[1].ki.wVk = VK_SHIFT;
        in[1].ki.dwFlags = KEYEVENTF_KEYUP;
        if (send_pair(in) < 0) {
            fprintf(stderr, "sendinput: SendInput refused a key (error %lu)\n", GetLastError());
            return 1;
        }
    }
    for (int i = 0; i < clicks; i++) {
        INPUT in[2] = {{.type = INPUT_MOUSE}, {.type = INPUT_MOUSE}};
        in[0].mi.dwFlags = MOUSEEVENTF_MIDDLEDOWN;
        in[1].mi.dwFlags = MOUSEEVENTF_MIDDLEUP;
        if (send_pair(in) < 0) {
            fprintf(stderr, "sendinput: SendInput refused a click (error %lu)\n", GetLastError());
            return 1;
        }
    }
    printf("{\"keys\":%d,\"clicks\":%d}\n", keys, clicks);
    fflush(stdout);
    return 0;
}
