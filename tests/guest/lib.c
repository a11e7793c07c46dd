/* Test guest runtime: string helpers, serial output on COM1 (0x3f8), printf, TAP. */
#include "lib.h"

#define COM1 0x3f8

/* String instructions: a compiler cannot turn these back into calls to themselves. */
void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n > 0; n--, x++, y++)
        if (*x != *y)
            return *x < *y ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; n--, a++, b++) {
        if (*a != *b)
            return (uint8_t)*a < (uint8_t)*b ? -1 : 1;
        if (*a == 0)
            return 0;
    }
    return 0;
}

bool str_starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

uint64_t parse_num(const char **s)
{
    const char *p = *s;
    uint64_t v = 0;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        for (;; p++) {
            unsigned d;
            if (*p >= '0' && *p <= '9')
                d = (unsigned)(*p - '0');
            else if (*p >= 'a' && *p <= 'f')
                d = (unsigned)(*p - 'a' + 10);
            else if (*p >= 'A' && *p <= 'F')
                d = (unsigned)(*p - 'A' + 10);
            else
                break;
            v = v * 16 + d;
        }
    } else {
        for (; *p >= '0' && *p <= '9'; p++)
            v = v * 10 + (uint64_t)(*p - '0');
    }
    *s = p;
    return v;
}

void serial_init(void)
{
    outb(COM1 + 1, 0x00); /* no interrupts */
    outb(COM1 + 3, 0x80); /* DLAB */
    outb(COM1 + 0, 0x01); /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0xc7); /* FIFO */
}

static void serial_putc(char c)
{
    /* Bounded wait for the transmitter: an emulated UART is always ready. */
    for (int i = 0; i < 10000 && (inb(COM1 + 5) & 0x20) == 0; i++)
        cpu_relax();
    outb(COM1, (uint8_t)c);
}

static void put_num(uint64_t v, unsigned base, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v != 0);
    while (n < width && n < (int)sizeof(buf))
        buf[n++] = pad;
    while (n > 0)
        serial_putc(buf[--n]);
}

static void vgprintf(const char *fmt, va_list ap)
{
    for (const char *p = fmt; *p; p++) {
        if (*p != '%') {
            serial_putc(*p);
            continue;
        }
        p++;
        char pad = ' ';
        int width = 0;
        if (*p == '0')
            pad = '0', p++;
        while (*p >= '0' && *p <= '9')
            width = width * 10 + (*p++ - '0');
        bool is_long = false;
        while (*p == 'l')
            is_long = true, p++;
        switch (*p) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            for (; s && *s; s++)
                serial_putc(*s);
            break;
        }
        case 'c':
            serial_putc((char)va_arg(ap, int));
            break;
        case 'd': {
            int64_t v = is_long ? va_arg(ap, long) : va_arg(ap, int);
            if (v < 0) {
                serial_putc('-');
                v = -v;
            }
            put_num((uint64_t)v, 10, width, pad);
            break;
        }
        case 'u':
            put_num(is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10, width, pad);
            break;
        case 'x':
            put_num(is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16, width, pad);
            break;
        case '%':
            serial_putc('%');
            break;
        default:
            serial_putc('?');
            break;
        }
    }
}

void gprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vgprintf(fmt, ap);
    va_end(ap);
}

static unsigned tap_n, tap_failed;

void tap_result(bool ok, const char *fmt, ...)
{
    va_list ap;
    tap_n++;
    if (!ok)
        tap_failed++;
    gprintf("%s %u - ", ok ? "ok" : "not ok", tap_n);
    va_start(ap, fmt);
    vgprintf(fmt, ap);
    va_end(ap);
    serial_putc('\n');
}

void tap_skip(const char *why, const char *fmt, ...)
{
    va_list ap;
    tap_n++;
    gprintf("ok %u - ", tap_n);
    va_start(ap, fmt);
    vgprintf(fmt, ap);
    va_end(ap);
    gprintf(" # skip %s\n", why);
}

unsigned tap_failures(void)
{
    return tap_failed;
}

unsigned tap_count(void)
{
    return tap_n;
}
