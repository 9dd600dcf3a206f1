/* The peer of the DTLS figure: OpenSSL doing the WebRTC handshake in memory (DTLS 1.2,
 * ECDHE + ECDSA P-256 certificates on both sides, the server requiring the client's
 * certificate, use_srtp SRTP_AES128_CM_SHA1_80, extended master secret, the RFC 5764 key
 * export, the peer's leaf hashed with SHA-256 as an RFC 8122 fingerprint check). Both ends run
 * in one thread over memory BIOs; only the CPU time of the measured side (the "gateway" side,
 * server or client by ROLE) is counted (CLOCK_THREAD_CPUTIME_ID around its calls), including
 * creating its SSL object and the key export.
 * Prints one JSON line. Built and run by `iq-bench dtls` (bench/src/floor.rs);
 * usage: dtls_openssl HANDSHAKES server|client */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "%s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

static int make_cert(EVP_PKEY **key, X509 **cert) {
    *key = EVP_EC_gen("P-256");
    if (!*key) return 0;
    X509 *x = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30);
    X509_set_pubkey(x, *key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"webrtc", -1, -1, 0);
    X509_set_issuer_name(x, n);
    if (!X509_sign(x, *key, EVP_sha256())) return 0;
    *cert = x;
    return 1;
}

/* WebRTC: self-signed certificates, checked by fingerprint (hash the leaf, as RFC 8122) */
static int verify_cb(int ok, X509_STORE_CTX *ctx) {
    (void)ok;
    X509 *leaf = X509_STORE_CTX_get0_cert(ctx);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    return leaf && X509_digest(leaf, EVP_sha256(), md, &len) && len == 32;
}

static SSL_CTX *make_ctx(int server, EVP_PKEY *key, X509 *cert) {
    SSL_CTX *c = SSL_CTX_new(server ? DTLS_server_method() : DTLS_client_method());
    if (!c) die("SSL_CTX_new");
    SSL_CTX_set_min_proto_version(c, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(c, DTLS1_2_VERSION);
    if (!SSL_CTX_use_certificate(c, cert) || !SSL_CTX_use_PrivateKey(c, key)) die("cert");
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
    if (SSL_CTX_set_tlsext_use_srtp(c, "SRTP_AES128_CM_SHA1_80") != 0) die("use_srtp");
    if (!SSL_CTX_set_cipher_list(c, "ECDHE-ECDSA-AES128-GCM-SHA256")) die("ciphers");
    if (!SSL_CTX_set1_groups_list(c, "P-256")) die("groups");
    SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_QUERY_MTU);
    return c;
}

static SSL *make_ssl(SSL_CTX *c, int server, BIO **in, BIO **out) {
    SSL *s = SSL_new(c);
    *in = BIO_new(BIO_s_mem());
    *out = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(*in, -1);
    BIO_set_mem_eof_return(*out, -1);
    SSL_set_bio(s, *in, *out);
    SSL_set_mtu(s, 1200);
    DTLS_set_link_mtu(s, 1200);
    if (server) SSL_set_accept_state(s); else SSL_set_connect_state(s);
    return s;
}

/* move what `from` wrote (its out BIO) into `to`'s in BIO, one DTLS datagram at a time is not
 * needed: several records per datagram are legal and OpenSSL reads them */
static void pump(BIO *out, BIO *in) {
    char buf[4096];
    int n;
    while ((n = BIO_read(out, buf, sizeof buf)) > 0) BIO_write(in, buf, n);
}

static int finish(SSL *s) {
    if (!SSL_get_selected_srtp_profile(s)) return 0;
    unsigned char km[60];
    if (!SSL_export_keying_material(s, km, sizeof km, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0)) return 0;
    X509 *peer = SSL_get1_peer_certificate(s);
    if (!peer) return 0;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    int ok = X509_digest(peer, EVP_sha256(), md, &len);
    X509_free(peer);
    return ok;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 500;
    int gw_server = !(argc > 2 && strcmp(argv[2], "client") == 0);
    if (n <= 0) n = 500;
    EVP_PKEY *k1, *k2;
    X509 *c1, *c2;
    if (!make_cert(&k1, &c1) || !make_cert(&k2, &c2)) die("certificate");
    SSL_CTX *sctx = make_ctx(1, k1, c1), *cctx = make_ctx(0, k2, c2);
    double gw = 0, other = 0;
    long flights = 0;
    for (long i = 0; i < n; i++) {
        BIO *sin, *sout, *cin, *cout;
        double a = cpu_ns();
        SSL *srv = make_ssl(sctx, 1, &sin, &sout);
        double b = cpu_ns();
        SSL *cli = make_ssl(cctx, 0, &cin, &cout);
        double c = cpu_ns();
        if (gw_server) { gw += b - a; other += c - b; } else { gw += c - b; other += b - a; }
        int sdone = 0, cdone = 0;
        for (int round = 0; round < 20 && !(sdone && cdone); round++) {
            a = cpu_ns();
            if (!cdone) {
                int r = SSL_do_handshake(cli);
                if (r == 1) { cdone = 1; if (!finish(cli)) die("client finish"); }
                else if (SSL_get_error(cli, r) != SSL_ERROR_WANT_READ) die("client handshake");
            }
            b = cpu_ns();
            pump(cout, sin);
            c = cpu_ns();
            if (!sdone) {
                int r = SSL_do_handshake(srv);
                if (r == 1) { sdone = 1; if (!finish(srv)) die("server finish"); }
                else if (SSL_get_error(srv, r) != SSL_ERROR_WANT_READ) die("server handshake");
            }
            double d = cpu_ns();
            pump(sout, cin);
            double e = cpu_ns();
            flights++;
            if (gw_server) { gw += d - c; other += (b - a) + (e - d); }
            else { gw += (b - a); other += d - c; }
        }
        if (!(sdone && cdone)) die("handshake did not complete");
        a = cpu_ns();
        SSL_free(gw_server ? srv : cli);
        b = cpu_ns();
        SSL_free(gw_server ? cli : srv);
        gw += b - a;
    }
    printf("{\"handshakes\": %ld, \"gateway_role\": \"%s\", \"gateway_ns\": %.0f, "
           "\"peer_ns\": %.0f, \"version\": \"%s\"}\n",
           n, gw_server ? "server" : "client", gw / (double)n, other / (double)n,
           OpenSSL_version(OPENSSL_VERSION));
    return 0;
}
