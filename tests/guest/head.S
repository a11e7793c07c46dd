/* Test guest entry points: the PVH 32-bit entry (QEMU -M microvm) switches to long mode
 * with identity page tables for the first 4 GiB; the 64-bit entry (e_entry, used by
 * vessel's VMM, which starts us in long mode with RSI = boot_params) joins it. */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long pvh_entry32
    .balign 4

    .section .text.boot, "ax"
    .code32
    .globl pvh_entry32
pvh_entry32:
    cli
    cld
    movl %ebx, pvh_start_info       /* hvm_start_info, physical */
    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories of 2 MiB pages. */
    movl $pdpt, %eax
    orl $3, %eax
    movl %eax, pml4
    xorl %ecx, %ecx
1:  movl %ecx, %eax
    shll $12, %eax
    addl $pd, %eax
    orl $3, %eax
    movl %eax, pdpt(,%ecx,8)
    incl %ecx
    cmpl $4, %ecx
    jne 1b
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $21, %eax
    orl $0x83, %eax                 /* present, writable, 2 MiB page */
    movl %eax, pd(,%ecx,8)
    incl %ecx
    cmpl $2048, %ecx
    jne 2b
    movl $pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $0x20, %eax                 /* PAE */
    movl %eax, %cr4
    movl $0xc0000080, %ecx          /* EFER.LME */
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80000001, %eax           /* PG | PE */
    movl %eax, %cr0
    lgdt gdt_desc
    ljmp $0x08, $pvh_entry64

    .code64
pvh_entry64:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    xorl %esi, %esi                 /* no boot_params on this path */
    jmp common64

    .globl _start64
_start64:
    cli
    cld
common64:
    leaq stack_top(%rip), %rsp
    movq %rsi, %rdi                 /* boot_params or 0 */
    movl pvh_start_info(%rip), %esi /* hvm_start_info or 0 */
    call guest_main
3:  cli
    hlt
    jmp 3b

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .section .data
    .balign 4
pvh_start_info:
    .long 0

    .section .bss
    .balign 4096
pml4:
    .skip 4096
pdpt:
    .skip 4096
pd:
    .skip 4 * 4096
    .balign 16
stack:
    .skip 65536
stack_top:
