/* Test guest runtime: port and MMIO access, the 8250 serial console, a small printf,
 * string helpers and TAP reporting. Freestanding: no libc. */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t mmio_read32(uint64_t addr)
{
    return *(volatile uint32_t *)(uintptr_t)addr;
}
static inline void mmio_write32(uint64_t addr, uint32_t v)
{
    *(volatile uint32_t *)(uintptr_t)addr = v;
}
static inline void mmio_write8(uint64_t addr, uint8_t v)
{
    *(volatile uint8_t *)(uintptr_t)addr = v;
}
static inline uint8_t mmio_read8(uint64_t addr)
{
    return *(volatile uint8_t *)(uintptr_t)addr;
}
static inline void barrier_full(void)
{
    __asm__ volatile("mfence" ::: "memory");
}
static inline void cpu_relax(void)
{
    __asm__ volatile("pause" ::: "memory");
}

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
bool str_starts(const char *s, const char *prefix);
/* Parse a hex ("0x...") or decimal number at *s, advancing it. */
uint64_t parse_num(const char **s);

void serial_init(void);
void gprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* TAP: one line per case, numbered in order; failures counted for the exit status. */
void tap_result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_skip(const char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned tap_failures(void);
unsigned tap_count(void);

#endif
