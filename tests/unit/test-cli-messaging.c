/*
 * Unit tests of what the messaging commands of the CLI do without a
 * server: the cleaning of others' text before it reaches a terminal
 * (cli/messaging.c), sizes, and the SHA-1 behind the WebSocket handshake's
 * Sec-WebSocket-Accept (cli/ws.c), against FIPS 180 and RFC 6455 vectors.
 * The commands themselves are tested against a real stintd in
 * tests/integration/test_cli_messaging.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/messaging.h"
#include "cli/ws.h"

static void expect_clean(const char *in, bool multiline, const char *want)
{
    char *got = cli_msg_clean(in, multiline, "  ");

    assert_string_equal(got, want);
    free(got);
}

static void test_escapes_are_dropped_whole(void **state)
{
    (void)state;
    expect_clean("\x1b[31mred\x1b[0m", false, "red");
    expect_clean("\x1b[2J\x1b[?25lhidden cursor", false, "hidden cursor");
    expect_clean("\x1b]0;window title\x07"
                 "after",
                 false, "after");
    expect_clean("\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\", false, "link");
    expect_clean("\x1bPq#0;2;0;0;0\x1b\\sixel gone", false, "sixel gone");
    expect_clean("\x1b(Bcharset\x1b"
                 "c",
                 false, "charset");
    /* C1 controls in UTF-8: CSI (U+009B) and OSC (U+009D). */
    expect_clean("\xc2\x9b"
                 "31mc1",
                 false, "c1");
    expect_clean("\xc2\x9d"
                 "0;t\x07ok",
                 false, "ok");
    /* Cut short at the end of the text. */
    expect_clean("abc\x1b[", false, "abc");
    expect_clean("abc\x1b", false, "abc");
    expect_clean("abc\x1b]0;never ends", false, "abc");
}

static void test_other_controls_become_marks(void **state)
{
    (void)state;
    expect_clean("a\rb\x07"
                 "c\x7f"
                 "d\xc2\x85"
                 "e",
                 false, "a?b?c?d?e");
    expect_clean("tab\there", false, "tab here");
    expect_clean("bidi \xe2\x80\xae"
                 "txt.exe",
                 false, "bidi ?txt.exe");
    expect_clean("broken \xff\xfe utf8 \xe2\x82", false, "broken ?? utf8 ??");
    expect_clean("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x99\x82", false,
                 "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x99\x82");
}

static void test_newlines(void **state)
{
    (void)state;
    expect_clean("one\ntwo\n\nthree", true, "one\n  two\n  \n  three");
    expect_clean("one\ntwo", false, "one?two");
    expect_clean("", true, "");
}

static void test_sizes(void **state)
{
    char out[CLI_SIZE_LEN];

    (void)state;
    cli_format_size(0, out);
    assert_string_equal(out, "0 B");
    cli_format_size(1023, out);
    assert_string_equal(out, "1023 B");
    cli_format_size(1536, out);
    assert_string_equal(out, "1.5 KiB");
    cli_format_size(6 * 1024 * 1024 + 123, out);
    assert_string_equal(out, "6.0 MiB");
}

static void expect_sha1(const void *data, size_t len, const char *hex)
{
    unsigned char d[20];
    char got[41];

    cli_ws_sha1(data, len, d);
    for (int i = 0; i < 20; i++)
        snprintf(got + 2 * i, 3, "%02x", d[i]);
    assert_string_equal(got, hex);
}

static void test_sha1(void **state)
{
    static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    char *million = malloc(1000000);

    (void)state;
    expect_sha1("", 0, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    expect_sha1("abc", 3, "a9993e364706816aba3e25717850c26c9cd0d89d");
    expect_sha1(two_blocks, strlen(two_blocks), "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
    memset(million, 'a', 1000000);
    expect_sha1(million, 1000000, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
    free(million);
}

static void test_handshake_accept(void **state)
{
    /* RFC 6455 section 1.3. */
    static const char in[] = "dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char d[20];
    char b64[sodium_base64_ENCODED_LEN(20, sodium_base64_VARIANT_ORIGINAL)];

    (void)state;
    cli_ws_sha1(in, strlen(in), d);
    sodium_bin2base64(b64, sizeof(b64), d, sizeof(d), sodium_base64_VARIANT_ORIGINAL);
    assert_string_equal(b64, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escapes_are_dropped_whole),
        cmocka_unit_test(test_other_controls_become_marks),
        cmocka_unit_test(test_newlines),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_sha1),
        cmocka_unit_test(test_handshake_accept),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
