/* pl011.h - the Arm PL011 UART's registers and bits (PrimeCell UART TRM r1p5, DDI 0183), shared by
 * the driver (drivers/pl011.c), the device model (vmm/vpl011.c), head.S, TestOS and the tests.
 * Offsets and the *_SHIFT bit numbers are usable from assembly. */
#ifndef HW_PL011_H
#define HW_PL011_H

/* Register offsets (TRM 3.2 "Summary of registers"). */
#define PL011_DR       0x000
#define PL011_RSR      0x004 /* UARTRSR on read, UARTECR on write */
#define PL011_FR       0x018
#define PL011_ILPR     0x020
#define PL011_IBRD     0x024
#define PL011_FBRD     0x028
#define PL011_LCR_H    0x02c
#define PL011_CR       0x030
#define PL011_IFLS     0x034
#define PL011_IMSC     0x038
#define PL011_RIS      0x03c
#define PL011_MIS      0x040
#define PL011_ICR      0x044
#define PL011_DMACR    0x048
#define PL011_ID_FIRST 0xfe0 /* UARTPeriphID0..3, UARTPCellID0..3 */
#define PL011_SIZE     0x1000

/* UARTFR bits (TRM 3.3.3). */
#define PL011_FR_RXFE       (1u << 4)
#define PL011_FR_TXFF_SHIFT 5
#define PL011_FR_TXFF       (1u << PL011_FR_TXFF_SHIFT)
#define PL011_FR_RXFF       (1u << 6)
#define PL011_FR_TXFE       (1u << 7)

#define PL011_RSR_OE (1u << 3) /* overrun (TRM 3.3.2) */

/* UARTLCR_H (TRM 3.3.7): FIFOs on, 8-bit words. */
#define PL011_LCR_H_FEN    (1u << 4)
#define PL011_LCR_H_WLEN_8 (3u << 5)

/* UARTCR (TRM 3.3.8). */
#define PL011_CR_UARTEN (1u << 0)
#define PL011_CR_LBE    (1u << 7) /* loopback */
#define PL011_CR_TXE    (1u << 8)
#define PL011_CR_RXE    (1u << 9)

/* Interrupt bits, the same in IMSC, RIS, MIS and ICR (TRM 3.3.10-3.3.14). */
#define PL011_INT_RX  (1u << 4) /* receive (FIFO level) */
#define PL011_INT_TX  (1u << 5)
#define PL011_INT_RT  (1u << 6) /* receive timeout: a character waits in the FIFO */
#define PL011_INT_OE  (1u << 10)
#define PL011_INT_ALL 0x7ffu

#endif
