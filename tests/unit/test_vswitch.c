/* test_vswitch.c - the learning switch: flooding, learning, ageing, counters, flush, detach. */
#include <stdint.h>
#include <string.h>

#include "kernel/time.h"
#include "test.h"
#include "vmm/vswitch.h"

static uint64_t now_ns = 1000;

/* The switch's time source, moved by the tests. */
uint64_t time_now_ns(void)
{
    return now_ns;
}

/** A port's far side: what it was handed, and whether it takes frames. */
struct fake_port {
    struct vswitch_port *port;
    bool full; /* refuse every frame, as a full RX ring does */
    int frames, flushes;
    size_t last_len;
    uint8_t last[VSWITCH_FRAME_MAX];
};

static bool fake_deliver(void *ctx, const void *frame, size_t len)
{
    struct fake_port *f = ctx;

    if (f->full)
        return false;
    f->frames++;
    f->last_len = len;
    memcpy(f->last, frame, len);
    return true;
}

static void fake_flush(void *ctx)
{
    ((struct fake_port *)ctx)->flushes++;
}

static const struct vswitch_port_ops fake_ops = {fake_deliver, fake_flush};

static void attach(struct fake_port *f, const char *sw, const char *name)
{
    memset(f, 0, sizeof(*f));
    f->port = vswitch_attach(sw, name, &fake_ops, f);
    CHECK(f->port != NULL);
}

/* A 60-byte frame from station src to dst (station n has MAC 02:00:00:00:00:n). */
static void send(struct fake_port *from, int dst, int src, uint8_t tag)
{
    uint8_t frame[60] = {0};

    if (dst < 0)
        memset(frame, 0xff, 6);
    else
        memcpy(frame, (uint8_t[]){2, 0, 0, 0, 0, (uint8_t)dst}, 6);
    memcpy(frame + 6, (uint8_t[]){2, 0, 0, 0, 0, (uint8_t)src}, 6);
    frame[14] = tag;
    vswitch_send(from->port, frame, sizeof(frame));
}

static void reset_counts(struct fake_port *p, int n)
{
    for (int i = 0; i < n; i++)
        p[i].frames = p[i].flushes = 0;
}

static void test_flood_then_learn(void)
{
    struct fake_port p[3];
    struct vswitch_port_stats st;

    for (int i = 0; i < 3; i++)
        attach(&p[i], "t_learn", i == 0 ? "a" : i == 1 ? "b" : "c");
    /* Unknown destination: everyone but the sender. */
    send(&p[0], 2, 1, 7);
    CHECK_EQ(p[0].frames, 0);
    CHECK_EQ(p[1].frames, 1);
    CHECK_EQ(p[2].frames, 1);
    CHECK_EQ(p[1].last[14], 7);
    CHECK_EQ(p[1].last_len, 60);
    /* Station 1 is now known on port a: a reply goes there only. */
    reset_counts(p, 3);
    send(&p[1], 1, 2, 8);
    CHECK_EQ(p[0].frames, 1);
    CHECK_EQ(p[2].frames, 0);
    /* Station 2 learnt on b: unicast to it reaches b only. */
    reset_counts(p, 3);
    send(&p[2], 2, 3, 9);
    CHECK_EQ(p[1].frames, 1);
    CHECK_EQ(p[0].frames, 0);
    /* Broadcast floods, and a frame to the sender's own side goes nowhere. */
    reset_counts(p, 3);
    send(&p[0], -1, 1, 10);
    CHECK_EQ(p[1].frames + p[2].frames, 2);
    reset_counts(p, 3);
    send(&p[0], 1, 4, 11);
    CHECK_EQ(p[0].frames + p[1].frames + p[2].frames, 0);
    vswitch_port_stats(p[0].port, &st);
    CHECK_EQ(st.rx_frames, 3);
    CHECK_EQ(st.rx_bytes, 180);
    CHECK_EQ(st.tx_frames, 1);
    CHECK_EQ(st.tx_bytes, 60);
    for (int i = 0; i < 3; i++)
        vswitch_detach(p[i].port);
}

static void test_multicast_not_learnt(void)
{
    struct fake_port p[3];
    uint8_t frame[60] = {2, 0, 0, 0, 0, 9, 1, 0, 0x5e, 0, 0, 1};

    for (int i = 0; i < 3; i++)
        attach(&p[i], "t_learn", "p");
    /* A frame from group address 01:00:5e:00:00:01, then one to it: still flooded. */
    vswitch_send(p[0].port, frame, sizeof(frame));
    memcpy(frame, (uint8_t[]){1, 0, 0x5e, 0, 0, 1, 2, 0, 0, 0, 0, 5}, 12);
    reset_counts(p, 3);
    vswitch_send(p[1].port, frame, sizeof(frame));
    CHECK_EQ(p[0].frames, 1);
    CHECK_EQ(p[2].frames, 1);
    for (int i = 0; i < 3; i++)
        vswitch_detach(p[i].port);
}

static void test_ageing_and_moves(void)
{
    struct fake_port p[3];

    for (int i = 0; i < 3; i++)
        attach(&p[i], "t_learn", "p");
    send(&p[0], -1, 1, 0);
    reset_counts(p, 3);
    now_ns += 299ull * 1000000000ull;
    send(&p[1], 1, 2, 0);
    CHECK_EQ(p[0].frames, 1);
    CHECK_EQ(p[2].frames, 0);
    /* 300 s after it was last seen, station 1 is forgotten: flooded again. */
    now_ns += 1000000000ull;
    reset_counts(p, 3);
    send(&p[1], 1, 2, 0);
    CHECK_EQ(p[0].frames, 1);
    CHECK_EQ(p[2].frames, 1);
    /* A station that moves to another port is followed. */
    send(&p[0], -1, 1, 0);
    send(&p[2], -1, 1, 0);
    reset_counts(p, 3);
    send(&p[1], 1, 2, 0);
    CHECK_EQ(p[2].frames, 1);
    CHECK_EQ(p[0].frames, 0);
    for (int i = 0; i < 3; i++)
        vswitch_detach(p[i].port);
}

static void test_drops_counted(void)
{
    struct fake_port p[2];
    struct vswitch_port_stats st;
    uint8_t big[VSWITCH_FRAME_MAX + 1];

    attach(&p[0], "t_drop", "a");
    attach(&p[1], "t_drop", "b");
    memset(big, 0xff, sizeof(big));
    vswitch_send(p[0].port, big, sizeof(big));
    vswitch_send(p[0].port, big, VSWITCH_FRAME_MIN - 1);
    CHECK_EQ(p[1].frames, 0);
    vswitch_send(p[0].port, big, VSWITCH_FRAME_MAX); /* the largest valid frame, broadcast */
    vswitch_send(p[0].port, big, VSWITCH_FRAME_MIN);
    CHECK_EQ(p[1].frames, 2);
    CHECK_EQ(p[1].last_len, VSWITCH_FRAME_MIN);
    p[1].full = true;
    send(&p[0], -1, 1, 0);
    vswitch_port_stats(p[0].port, &st);
    CHECK_EQ(st.drop_length, 2);
    CHECK_EQ(st.rx_frames, 3);
    vswitch_port_stats(p[1].port, &st);
    CHECK_EQ(st.drop_refused, 1);
    CHECK_EQ(st.tx_frames, 2);
    vswitch_detach(p[0].port);
    vswitch_detach(p[1].port);
}

static void test_flush_once_per_batch(void)
{
    struct fake_port p[3];

    for (int i = 0; i < 3; i++)
        attach(&p[i], "t_learn", "p");
    for (int i = 0; i < 5; i++)
        send(&p[0], -1, 1, 0);
    CHECK_EQ(p[1].flushes, 0);
    vswitch_flush(p[0].port);
    CHECK_EQ(p[1].flushes, 1);
    CHECK_EQ(p[2].flushes, 1);
    CHECK_EQ(p[0].flushes, 0);
    /* Nothing delivered since: no flush; a refused frame is not a delivery either. */
    vswitch_flush(p[0].port);
    CHECK_EQ(p[1].flushes, 1);
    p[2].full = true;
    send(&p[0], -1, 1, 0);
    vswitch_flush(p[0].port);
    CHECK_EQ(p[1].flushes, 2);
    CHECK_EQ(p[2].flushes, 1);
    for (int i = 0; i < 3; i++)
        vswitch_detach(p[i].port);
}

static void test_detach_and_switches_apart(void)
{
    struct fake_port a, b, c, x;

    attach(&a, "t_det", "a");
    attach(&b, "t_det", "b");
    attach(&x, "t_other", "x");
    send(&b, -1, 2, 0);
    CHECK_EQ(x.frames, 0); /* another switch sees nothing */
    send(&a, 2, 1, 0);
    CHECK_EQ(b.frames, 1);
    send(&a, -1, 1, 0); /* b's flush is pending for a */
    vswitch_detach(b.port);
    /* c takes b's slot: station 2's entry and the pending flush must not reach it. */
    attach(&c, "t_det", "c");
    send(&a, 2, 1, 0);
    CHECK_EQ(c.frames, 1); /* flooded: unknown again */
    vswitch_flush(a.port);
    CHECK_EQ(c.flushes, 1);
    vswitch_detach(a.port);
    vswitch_detach(c.port);
    vswitch_detach(x.port);
}

static void test_ports_run_out(void)
{
    struct fake_port f[17];
    int attached = 0;

    for (int i = 0; i < 17; i++) {
        memset(&f[i], 0, sizeof(f[i]));
        f[i].port = vswitch_attach("t_full", "p", &fake_ops, &f[i]);
        attached += f[i].port != NULL;
    }
    CHECK_EQ(attached, 16);
    CHECK(f[16].port == NULL);
    for (int i = 0; i < 16; i++)
        vswitch_detach(f[i].port);
}

/* Learning fills the table: the stalest addresses go, none is lost for a fresh one. */
static void test_table_pressure(void)
{
    struct fake_port p[2];
    uint8_t frame[60] = {0};

    attach(&p[0], "t_learn", "a");
    attach(&p[1], "t_learn", "b");
    for (int i = 0; i < 2000; i++) {
        memcpy(frame + 6, (uint8_t[]){2, 1, 0, 0, (uint8_t)(i >> 8), (uint8_t)i}, 6);
        memset(frame, 0xff, 6);
        now_ns++;
        vswitch_send(p[0].port, frame, sizeof(frame));
    }
    /* The last address learnt is known: unicast to it from b reaches a only (no flood back). */
    memcpy(frame, (uint8_t[]){2, 1, 0, 0, (uint8_t)(1999 >> 8), (uint8_t)1999}, 6);
    memcpy(frame + 6, (uint8_t[]){2, 9, 9, 9, 9, 9}, 6);
    reset_counts(p, 2);
    vswitch_send(p[1].port, frame, sizeof(frame));
    CHECK_EQ(p[0].frames, 1);
    vswitch_detach(p[0].port);
    vswitch_detach(p[1].port);
}

static int report_lines;
static char report_text[4096];

static void collect(void *arg, const char *text)
{
    (void)arg;
    report_lines++;
    strncat(report_text, text, sizeof(report_text) - strlen(report_text) - 2);
    strcat(report_text, "\n");
}

static void test_report(void)
{
    struct fake_port a, b;

    attach(&a, "t_rep", "vm-a");
    attach(&b, "t_rep", "vm-b");
    send(&a, -1, 0x11, 0);
    b.full = true;
    send(&a, -1, 0x11, 0);
    report_text[0] = '\0';
    vswitch_report(collect, NULL);
    CHECK(strstr(report_text, "switch t_rep: 2 ports, 1 addresses learnt") != NULL);
    CHECK(strstr(report_text, "port vm-a: rx 2 frames 120 bytes, tx 0 frames 0 bytes") != NULL);
    CHECK(strstr(report_text, "port vm-b: rx 0 frames 0 bytes, tx 1 frames 60 bytes, drops: "
                              "length 0, refused 1") != NULL);
    CHECK(strstr(report_text, "mac 02:00:00:00:00:11 on vm-a") != NULL);
    vswitch_detach(a.port);
    vswitch_detach(b.port);
}

int main(int argc, char **argv)
{
    static const struct test_case cases[] = {
        {"flood_then_learn", test_flood_then_learn},
        {"multicast_not_learnt", test_multicast_not_learnt},
        {"ageing_and_moves", test_ageing_and_moves},
        {"drops_counted", test_drops_counted},
        {"flush_once_per_batch", test_flush_once_per_batch},
        {"detach_and_switches_apart", test_detach_and_switches_apart},
        {"ports_run_out", test_ports_run_out},
        {"table_pressure", test_table_pressure},
        {"report", test_report},
    };
    return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
