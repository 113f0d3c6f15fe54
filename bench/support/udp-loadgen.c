// A UDP request/reply load generator, compiled with cc by the benchmarks at run time so the
// client is never the slower side. One socket, `window` requests in flight, `total` requests
// after `warmup` unmeasured ones; each request is the template with a 16-bit id written at
// byte offset `idoff` (SLP: the XID at 10), and a reply is matched to its request by the same
// bytes. A request unanswered for 200 ms is counted lost and replaced.
//
//   udp-loadgen client HOST PORT HEX-TEMPLATE IDOFF TOTAL WINDOW WARMUP [HEXOFF]
//     with HEXOFF, the id is also written there as 4 hex digits (so no two requests in flight
//     have the same content: defeats any cache keyed by content)
//     prints one JSON line {sent, received, lost, seconds, rps, p50us, p99us, maxus}
//   udp-loadgen echo PORT
//     a C UDP echo server on 127.0.0.1:PORT (the generator's own ceiling); stops on SIGTERM
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int echo(int port) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) return perror("bind"), 1;
  printf("ready\n");
  fflush(stdout);
  unsigned char buf[65536];
  for (;;) {
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    sendto(s, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
  }
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int client(int argc, char **argv) {
  if (argc < 9) return fprintf(stderr, "usage: client HOST PORT HEX IDOFF TOTAL WINDOW WARMUP\n"), 2;
  const char *host = argv[2];
  int port = atoi(argv[3]);
  const char *hex = argv[4];
  int idoff = atoi(argv[5]);
  long total = atol(argv[6]);
  int window = atoi(argv[7]);
  long warmup = atol(argv[8]);
  int hexoff = argc > 9 ? atoi(argv[9]) : -1;
  size_t len = strlen(hex) / 2;
  unsigned char *tpl = malloc(len);
  for (size_t i = 0; i < len; i++) tpl[i] = (unsigned char)(hexval(hex[2 * i]) << 4 | hexval(hex[2 * i + 1]));
  if (idoff < 0 || (size_t)idoff + 2 > len) return fprintf(stderr, "bad id offset\n"), 2;
  if (hexoff >= 0 && (size_t)hexoff + 4 > len) return fprintf(stderr, "bad hex offset\n"), 2;
  static const char digits[] = "0123456789abcdef";

  int s = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || (ntohl(a.sin_addr.s_addr) >> 24) != 127)
    return fprintf(stderr, "loopback addresses only\n"), 2;
  int rcv = 4 << 20;
  setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
  if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) return perror("connect"), 1;

  static double sent_at[65536];
  static unsigned char measured[65536];
  double *lat = malloc(sizeof(double) * (size_t)(total > 0 ? total : 1));
  long nlat = 0, issued = 0, lost = 0, sent = 0;
  long all = total + warmup;
  unsigned id = 0;
  int inflight = 0;
  double t0 = 0;
  unsigned char buf[65536];

#define SEND_ONE()                                         \
  do {                                                     \
    id = (id + 1) & 0xffff;                                \
    tpl[idoff] = (unsigned char)(id >> 8);                 \
    tpl[idoff + 1] = (unsigned char)(id & 0xff);           \
    if (hexoff >= 0)                                       \
      for (int d = 0; d < 4; d++)                          \
        tpl[hexoff + d] = (unsigned char)digits[(id >> (12 - 4 * d)) & 0xf]; \
    if (issued == warmup) t0 = now_us();                   \
    measured[id] = issued >= warmup;                       \
    sent_at[id] = now_us();                                \
    if (send(s, tpl, len, 0) == (ssize_t)len) inflight++;  \
    else sent_at[id] = 0;                                  \
    issued++;                                              \
    if (measured[id]) sent++;                              \
  } while (0)

  while (inflight < window && issued < all) SEND_ONE();
  double last_sweep = now_us();
  while (inflight > 0 || issued < all) {
    struct pollfd p = {.fd = s, .events = POLLIN};
    int r = poll(&p, 1, 50);
    if (r > 0) {
      ssize_t n;
      while ((n = recv(s, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
        if (n < idoff + 2) continue;
        unsigned rid = (unsigned)buf[idoff] << 8 | buf[idoff + 1];
        if (sent_at[rid] == 0) continue;
        double t = now_us();
        if (measured[rid]) lat[nlat++] = t - sent_at[rid];
        sent_at[rid] = 0;
        inflight--;
        if (issued < all) SEND_ONE();
      }
    }
    double t = now_us();
    if (t - last_sweep > 50000) {
      last_sweep = t;
      for (int i = 0; i < 65536; i++) {
        if (sent_at[i] != 0 && t - sent_at[i] > 200000) {
          sent_at[i] = 0;
          inflight--;
          if (measured[i]) lost++;
        }
      }
      while (inflight < window && issued < all) SEND_ONE();
    }
  }
  double secs = (now_us() - t0) / 1e6;
  qsort(lat, (size_t)nlat, sizeof(double), cmp_double);
#define PCT(q) (nlat ? lat[(long)((q) * (nlat - 1))] : 0)
  printf("{\"sent\":%ld,\"received\":%ld,\"lost\":%ld,\"seconds\":%.4f,\"rps\":%.0f,\"p50us\":%.0f,\"p99us\":%.0f,\"maxus\":%.0f}\n", sent, nlat, lost, secs,
         nlat / secs, PCT(0.5), PCT(0.99), nlat ? lat[nlat - 1] : 0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 3 && strcmp(argv[1], "echo") == 0) return echo(atoi(argv[2]));
  if (argc >= 2 && strcmp(argv[1], "client") == 0) return client(argc, argv);
  fprintf(stderr, "usage: udp-loadgen client … | echo PORT\n");
  return 2;
}
