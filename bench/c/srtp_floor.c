/* The crypto floor of the media relay figure: libsrtp 2 protecting and unprotecting 20 ms
 * audio packets (12-octet RTP header + 160 octets of PCMU, AES_CM_128_HMAC_SHA1_80), one
 * packet at a time in one thread, as a relay does per packet but without any socket.
 * Prints one JSON line: CPU nanoseconds per protect and per unprotect (CLOCK_THREAD_CPUTIME_ID).
 * Built and run by `iq-bench relay` (bench/src/floor.rs); usage: srtp_floor PACKETS */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void fill_rtp(unsigned char *p, unsigned seq, unsigned ts) {
    p[0] = 0x80; p[1] = 0; /* PCMU */
    p[2] = (unsigned char)(seq >> 8); p[3] = (unsigned char)seq;
    p[4] = (unsigned char)(ts >> 24); p[5] = (unsigned char)(ts >> 16);
    p[6] = (unsigned char)(ts >> 8); p[7] = (unsigned char)ts;
    p[8] = 0x12; p[9] = 0x34; p[10] = 0x56; p[11] = 0x78;
    memset(p + 12, 0xd5, 160);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n <= 0) n = 1000000;
    if (srtp_init() != srtp_err_status_ok) { fprintf(stderr, "srtp_init failed\n"); return 2; }
    unsigned char key[30];
    for (int i = 0; i < 30; i++) key[i] = (unsigned char)(i * 7 + 1);
    srtp_policy_t tx, rx;
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&tx.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&tx.rtcp);
    tx.ssrc.type = ssrc_any_outbound;
    tx.key = key;
    tx.window_size = 128;
    rx = tx;
    rx.ssrc.type = ssrc_any_inbound;
    srtp_t stx, srx;
    if (srtp_create(&stx, &tx) != srtp_err_status_ok || srtp_create(&srx, &rx) != srtp_err_status_ok) {
        fprintf(stderr, "srtp_create failed\n");
        return 2;
    }
    /* timed in batches: clock_gettime(CLOCK_THREAD_CPUTIME_ID) is a system call */
    enum { BATCH = 4096 };
    static unsigned char bufs[BATCH][172 + SRTP_MAX_TRAILER_LEN];
    int lens[BATCH];
    double tp = 0, tu = 0;
    long bad = 0;
    for (long done = 0; done < n; done += BATCH) {
        long m = n - done < BATCH ? n - done : BATCH;
        for (long i = 0; i < m; i++) {
            fill_rtp(bufs[i], (unsigned)(done + i) & 0xffff, (unsigned)(done + i) * 160);
            lens[i] = 172;
        }
        double a = now_ns();
        for (long i = 0; i < m; i++)
            if (srtp_protect(stx, bufs[i], &lens[i]) != srtp_err_status_ok) bad++;
        double b = now_ns();
        for (long i = 0; i < m; i++)
            if (srtp_unprotect(srx, bufs[i], &lens[i]) != srtp_err_status_ok) bad++;
        double c = now_ns();
        tp += b - a;
        tu += c - b;
    }
    printf("{\"packets\": %ld, \"protect_ns\": %.1f, \"unprotect_ns\": %.1f, \"failures\": %ld, "
           "\"version\": \"%s\"}\n",
           n, tp / (double)n, tu / (double)n, bad, srtp_get_version_string());
    return bad ? 1 : 0;
}
