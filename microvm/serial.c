/* A minimal 8250/16550 UART on COM1 (0x3f8, IRQ 4): transmit only, enough for a
 * kernel's serial console and for the Linux driver's probe (scratch, loopback,
 * THRE interrupt). Received data is never offered. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "common/fs.h"
#include "microvm/vm_internal.h"

#define UART_RBR_THR 0
#define UART_IER 1
#define UART_IIR_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6
#define UART_SCR 7

#define LCR_DLAB 0x80
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_FIFO_ENABLED 0xc0
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_DCD 0x80

struct serial {
    struct vm *vm;
    int out_fd;
    pthread_mutex_t lock;
    uint8_t ier, lcr, mcr, scr, fcr, dll, dlm;
    bool thri_pending;
    char buf[256];
    size_t buf_len;
};

int serial_create(struct vm *vm, int out_fd, struct serial **out, struct vessel_error **err)
{
    struct serial *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return vessel_error_set(err, ENOMEM, "allocating the serial port");
    s->vm = vm;
    s->out_fd = out_fd;
    s->dll = 0x0c;  /* 9600 baud, as a BIOS would leave it */
    s->mcr = 0x08;  /* OUT2 */
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

static void serial_flush_locked(struct serial *s)
{
    if (s->buf_len > 0 && s->out_fd >= 0)
        (void)write_all_fd(s->out_fd, s->buf, s->buf_len);
    s->buf_len = 0;
}

static void serial_irq_update_locked(struct serial *s)
{
    /* Edge: pulse the line whenever a THR-empty interrupt becomes pending. */
    if ((s->ier & IER_THRI) && s->thri_pending) {
        struct kvm_irq_level irq = {.irq = VM_SERIAL_IRQ, .level = 1};
        (void)ioctl(s->vm->vm_fd, KVM_IRQ_LINE, &irq);
        irq.level = 0;
        (void)ioctl(s->vm->vm_fd, KVM_IRQ_LINE, &irq);
    }
}

static void serial_write_locked(struct serial *s, uint16_t offset, uint8_t v)
{
    if ((s->lcr & LCR_DLAB) && offset <= UART_IER) {
        if (offset == 0)
            s->dll = v;
        else
            s->dlm = v;
        return;
    }
    switch (offset) {
    case UART_RBR_THR:
        if (s->mcr & MCR_LOOP)
            break;  /* loopback: nothing leaves the UART */
        s->buf[s->buf_len++] = (char)v;
        /* Line-buffered so a guest's log lines reach the host whole and promptly. */
        if (v == '\n' || s->buf_len == sizeof(s->buf))
            serial_flush_locked(s);
        s->thri_pending = true;
        serial_irq_update_locked(s);
        break;
    case UART_IER:
        s->ier = v & 0x0f;
        s->thri_pending = true;  /* enabling THRI with an empty THR raises it at once */
        serial_irq_update_locked(s);
        break;
    case UART_IIR_FCR: s->fcr = v; break;
    case UART_LCR: s->lcr = v; break;
    case UART_MCR: s->mcr = v & 0x1f; break;
    case UART_SCR: s->scr = v; break;
    default: break;
    }
}

static uint8_t serial_read_locked(struct serial *s, uint16_t offset)
{
    if ((s->lcr & LCR_DLAB) && offset <= UART_IER)
        return offset == 0 ? s->dll : s->dlm;
    uint8_t fifo = (s->fcr & 1) ? IIR_FIFO_ENABLED : 0;
    switch (offset) {
    case UART_RBR_THR: return 0;
    case UART_IER: return s->ier;
    case UART_IIR_FCR:
        if ((s->ier & IER_THRI) && s->thri_pending) {
            s->thri_pending = false;  /* reading IIR acknowledges THRE */
            return fifo | IIR_THRI;
        }
        return fifo | IIR_NO_INT;
    case UART_LCR: return s->lcr;
    case UART_MCR: return s->mcr;
    case UART_LSR: return LSR_THRE | LSR_TEMT;
    case UART_MSR:
        if (s->mcr & MCR_LOOP) {
            /* Loopback wiring: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
            return (uint8_t)(((s->mcr & 0x01) << 5) | ((s->mcr & 0x02) << 3) | ((s->mcr & 0x04) << 4) |
                             ((s->mcr & 0x08) << 4));
        }
        return MSR_DCD | MSR_DSR | MSR_CTS;
    case UART_SCR: return s->scr;
    default: return 0xff;
    }
}

void serial_io(struct serial *s, uint16_t offset, bool is_write, uint8_t *data)
{
    pthread_mutex_lock(&s->lock);
    if (is_write)
        serial_write_locked(s, offset, *data);
    else
        *data = serial_read_locked(s, offset);
    pthread_mutex_unlock(&s->lock);
}

void serial_destroy(struct serial *s)
{
    if (s == NULL)
        return;
    serial_flush_locked(s);
    pthread_mutex_destroy(&s->lock);
    free(s);
}
