/* Header values built from client text (X-Ignored-Fields lists names the client sent):
 * every one of the 256 byte values, alone and inside a name, leaves no control byte in the
 * value, and printable text passes unchanged. */
#include "unit.h"
#include "util.h"

static int has_control(const struct buf *b)
{
    for (size_t i = 0; i < b->len; i++)
        if ((unsigned char)b->s[i] < 0x20 || (unsigned char)b->s[i] == 0x7f)
            return 1;
    return 0;
}

static void test_every_byte(void)
{
    for (int ch = 0; ch < 256; ch++) {
        char in[5] = {'a', (char)ch, 'b', '\r', '\n'};
        struct buf b;
        buf_init(&b);
        buf_add_header_safe(&b, in, sizeof in, ",");
        CHECK(!has_control(&b));
        CHECK(header_value_ok(b.s, b.len));
        int plain = ch >= 0x20 && ch != 0x7f && ch != '%' && ch != ',';
        if (plain) {
            CHECK(b.len == 3 + 6 && b.s[1] == (char)ch);
        } else {
            char want[4];
            snprintf(want, sizeof want, "%%%02X", ch);
            CHECK(b.len == 2 + 3 + 6 && memcmp(b.s + 1, want, 3) == 0);
        }
        CHECK(memcmp(b.s + b.len - 6, "%0D%0A", 6) == 0);
        CHECK(header_value_ok(in, 3) == (ch >= 0x20 && ch != 0x7f));
        buf_release(&b);
    }
}

static void test_injection(void)
{
    static const char attack[] = "x\r\nSet-Cookie: pwn=1\r\n\r\nHTTP/1.1 200 OK";
    struct buf b;
    buf_init(&b);
    buf_add_header_safe(&b, attack, sizeof attack - 1, ",");
    CHECK_STR(b.s, "x%0D%0ASet-Cookie: pwn=1%0D%0A%0D%0AHTTP/1.1 200 OK");
    buf_release(&b);
    buf_init(&b);
    buf_add_header_safe(&b, "caf\xc3\xa9,%", 7, ",");
    CHECK_STR(b.s, "caf\xc3\xa9%2C%25"); /* UTF-8 kept; separator and escape char escaped */
    buf_release(&b);
}

int main(void)
{
    test_every_byte();
    test_injection();
    return unit_done();
}
