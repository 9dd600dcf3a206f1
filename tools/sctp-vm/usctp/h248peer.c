/*
 * h248peer: an H.248-over-SCTP peer on usrsctp, a userland SCTP stack independent of the Linux
 * kernel's. It checks our kernel-SCTP endpoint from the other side of a real wire.
 *
 *   h248peer LOCAL_IP REMOTE_IP PORT
 *
 * 1. MGC role: listen on LOCAL_IP:PORT, accept one association, answer every request with a
 *    Reply on the stream it came on (PPID 7) until the peer shuts the association down.
 *    Requires: >= 3 messages, every PPID 7 (network byte order on the wire), >= 2 streams.
 * 2. MG role: connect to REMOTE_IP:PORT, send requests on streams 0, 2 and 3 (the last one
 *    unordered and larger than an Ethernet MTU), check each reply (PPID 7, same stream, same
 *    transaction ID), shut down.
 *
 * Raw IP (protocol 132) only, no UDP encapsulation. One usrsctp instance does both roles in turn:
 * two instances on one host would each see the other's packets and answer them with ABORT.
 * Prints "H248PEER MGC PASS|FAIL" and "H248PEER MG PASS|FAIL"; exits 0 only when both pass.
 * Build: gcc -O1 -o h248peer h248peer.c $(pkg-config --cflags --libs usrsctp) -lpthread
 */
#include <usrsctp.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define H248_PPID 7
#define BUF_SIZE 70000

static char local_ip[64];

static void logf_(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("h248peer: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int configure(struct socket *s) {
    struct sctp_initmsg init;
    memset(&init, 0, sizeof init);
    init.sinit_num_ostreams = 4;
    init.sinit_max_instreams = 4;
    if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_INITMSG, &init, sizeof init) < 0) {
        perror("SCTP_INITMSG");
        return -1;
    }
    const int on = 1;
    if (usrsctp_setsockopt(s, IPPROTO_SCTP, SCTP_RECVRCVINFO, &on, sizeof on) < 0) {
        perror("SCTP_RECVRCVINFO");
        return -1;
    }
    return 0;
}

/* One whole user message (concatenating partial reads until MSG_EOR); 0 at shutdown. */
static ssize_t recv_msg(struct socket *s, char *buf, size_t cap, struct sctp_rcvinfo *info) {
    size_t len = 0;
    for (;;) {
        struct sockaddr_in from;
        socklen_t fromlen = sizeof from, infolen = sizeof *info;
        unsigned int infotype = 0;
        int flags = 0;
        ssize_t n = usrsctp_recvv(s, buf + len, cap - 1 - len, (struct sockaddr *)&from, &fromlen,
                                  info, &infolen, &infotype, &flags);
        if (n <= 0)
            return len ? -1 : n;
        if (flags & MSG_NOTIFICATION)
            continue;
        len += (size_t)n;
        if (flags & MSG_EOR) {
            buf[len] = 0;
            return (ssize_t)len;
        }
        if (len >= cap - 1)
            return -1;
    }
}

static int send_msg(struct socket *s, const char *msg, size_t len, uint16_t sid, uint16_t flags) {
    struct sctp_sndinfo si;
    memset(&si, 0, sizeof si);
    si.snd_sid = sid;
    si.snd_flags = flags;
    si.snd_ppid = htonl(H248_PPID);
    if (usrsctp_sendv(s, msg, len, NULL, 0, &si, sizeof si, SCTP_SENDV_SNDINFO, 0) < 0) {
        perror("usrsctp_sendv");
        return -1;
    }
    return 0;
}

/* "Transaction = N { Context = C { Cmd = Term" -> "Reply = N { Context = C { Cmd = Term } }" */
static int make_reply(const char *req, char *out, size_t cap, unsigned *tid) {
    const char *t = strstr(req, "Transaction = ");
    char ctx[32], cmd[32], term[64];
    if (!t || sscanf(t, "Transaction = %u { Context = %31[^ ] { %31[A-Za-z] = %63[^ {}]", tid, ctx,
                     cmd, term) != 4)
        return -1;
    snprintf(out, cap, "MEGACO/3 [%s]:2944\nReply = %u { Context = %s { %s = %s } }", local_ip,
             *tid, ctx, cmd, term);
    return 0;
}

static int mgc_role(const char *ip, int port) {
    struct socket *l = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    if (!l || configure(l) < 0)
        return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (usrsctp_bind(l, (struct sockaddr *)&a, sizeof a) < 0 || usrsctp_listen(l, 1) < 0) {
        perror("bind/listen");
        return 0;
    }
    logf_("MGC: listening on %s:%d", ip, port);
    struct socket *c = usrsctp_accept(l, NULL, NULL);
    if (!c) {
        perror("usrsctp_accept");
        return 0;
    }
    static char buf[BUF_SIZE];
    char reply[512];
    int n = 0, ok = 1;
    unsigned streams = 0;
    for (;;) {
        struct sctp_rcvinfo ri;
        memset(&ri, 0, sizeof ri);
        ssize_t len = recv_msg(c, buf, sizeof buf, &ri);
        if (len <= 0)
            break; /* the MG shut the association down */
        unsigned tid = 0, ppid = ntohl(ri.rcv_ppid);
        int good = ppid == H248_PPID && strncmp(buf, "MEGACO/", 7) == 0 &&
                   make_reply(buf, reply, sizeof reply, &tid) == 0;
        logf_("MGC: request %d: %zd octets, stream %u, ppid %u, transaction %u: %s", n + 1, len,
              ri.rcv_sid, ppid, tid, good ? "ok" : "BAD");
        ok &= good;
        n++;
        streams |= 1u << (ri.rcv_sid & 31);
        if (good && send_msg(c, reply, strlen(reply), ri.rcv_sid, 0) < 0)
            ok = 0;
    }
    usrsctp_close(c);
    usrsctp_close(l);
    int distinct = __builtin_popcount(streams);
    logf_("MGC: %d requests on %d streams", n, distinct);
    return ok && n >= 3 && distinct >= 2;
}

static int mg_role(const char *local, const char *remote, int port) {
    struct socket *s = usrsctp_socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP, NULL, NULL, 0, NULL);
    if (!s || configure(s) < 0)
        return 0;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    inet_pton(AF_INET, local, &a.sin_addr);
    if (usrsctp_bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("usrsctp_bind");
        return 0;
    }
    struct sockaddr_in r;
    memset(&r, 0, sizeof r);
    r.sin_family = AF_INET;
    r.sin_port = htons(port);
    inet_pton(AF_INET, remote, &r.sin_addr);
    if (usrsctp_connect(s, (struct sockaddr *)&r, sizeof r) < 0) {
        perror("usrsctp_connect");
        return 0;
    }
    logf_("MG: associated with %s:%d", remote, port);
    static char big[8192], buf[BUF_SIZE];
    char msgs[3][600];
    snprintf(msgs[0], sizeof msgs[0],
             "MEGACO/3 [%s]:2944\nTransaction = 11 { Context = - { ServiceChange = ROOT { Services "
             "{ Method = Restart, ServiceChangeAddress = 2944, Profile = ETSI_BGF/2 } } } }",
             local);
    snprintf(msgs[1], sizeof msgs[1],
             "MEGACO/3 [%s]:2944\nTransaction = 12 { Context = 9 { Notify = ip/9 { "
             "ObservedEvents = 4 { g/sc { method = TO } } } } }",
             local);
    /* larger than one Ethernet frame: split into several DATA chunks */
    int off = snprintf(big, sizeof big,
                       "MEGACO/3 [%s]:2944\nTransaction = 13 { Context = 9 { Modify = ip/9 { "
                       "Media { Stream = 1 { Local {\nv=0\no=- 9 9 IN IP4 %s\ns=-\nc=IN IP4 "
                       "%s\nt=0 0\nm=audio 40000 RTP/AVP 0\n",
                       local, local, local);
    for (int i = 0; off < 5600; i++)
        off += snprintf(big + off, sizeof big - off, "a=x-iq-padding:%04d\n", i);
    snprintf(big + off, sizeof big - off, "} } } } } }");
    const char *req[3] = {msgs[0], msgs[1], big};
    const uint16_t sid[3] = {0, 2, 3}, flags[3] = {0, 0, SCTP_UNORDERED};
    int ok = 1;
    for (int i = 0; i < 3; i++) {
        if (send_msg(s, req[i], strlen(req[i]), sid[i], flags[i]) < 0) {
            ok = 0;
            break;
        }
        struct sctp_rcvinfo ri;
        memset(&ri, 0, sizeof ri);
        ssize_t len = recv_msg(s, buf, sizeof buf, &ri);
        char want[32];
        snprintf(want, sizeof want, "Reply = %d ", 11 + i);
        int good = len > 0 && ntohl(ri.rcv_ppid) == H248_PPID && ri.rcv_sid == sid[i] &&
                   strncmp(buf, "MEGACO/", 7) == 0 && strstr(buf, want) != NULL;
        logf_("MG: request %d (%zu octets, stream %u%s): reply %zd octets, stream %u, ppid %u: %s",
              11 + i, strlen(req[i]), sid[i], flags[i] ? ", unordered" : "", len, ri.rcv_sid,
              ntohl(ri.rcv_ppid), good ? "ok" : "BAD");
        ok &= good;
    }
    usrsctp_shutdown(s, SHUT_RDWR);
    usrsctp_close(s);
    return ok;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: h248peer LOCAL_IP REMOTE_IP PORT\n");
        return 2;
    }
    snprintf(local_ip, sizeof local_ip, "%s", argv[1]);
    signal(SIGPIPE, SIG_IGN);
    alarm(150); /* never outlive the check */
    usrsctp_init(0, NULL, NULL); /* 0: raw IP, no UDP encapsulation */
    usrsctp_sysctl_set_sctp_ecn_enable(1);
    int port = atoi(argv[3]);
    int mgc = mgc_role(argv[1], port);
    printf("H248PEER MGC %s\n", mgc ? "PASS" : "FAIL");
    fflush(stdout);
    int mg = mg_role(argv[1], argv[2], port);
    printf("H248PEER MG %s\n", mg ? "PASS" : "FAIL");
    fflush(stdout);
    for (int i = 0; i < 50 && usrsctp_finish() != 0; i++)
        usleep(100000);
    return mgc && mg ? 0 : 1;
}
