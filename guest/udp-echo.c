/*
 * udp-echo: the guest's UDP echo responder for the virtual lab's probe stream.
 *
 * Sends every datagram back to its sender with the same bytes: the probe stream puts sequence
 * numbers and send timestamps in the payload and needs them returned untouched. busybox-static has
 * no UDP server, so the guest image carries this one, built with `gcc -static -O2`.
 *
 * usage: udp-echo PORT
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PORT\n", argv[0]);
    return 2;
  }
  char *end = NULL;
  long port = strtol(argv[1], &end, 10);
  if (end == argv[1] || *end != '\0' || port < 1 || port > 65535) {
    fprintf(stderr, "udp-echo: port must be 1-65535, got \"%s\"\n", argv[1]);
    return 2;
  }

  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("udp-echo: socket");
    return 1;
  }
  struct sockaddr_in local;
  memset(&local, 0, sizeof local);
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_ANY);
  local.sin_port = htons((unsigned short)port);
  if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
    perror("udp-echo: bind");
    return 1;
  }
  fprintf(stderr, "udp-echo: listening on udp port %ld\n", port);

  /* 65535 is the largest UDP payload; a shorter buffer would truncate and corrupt the echo. */
  static unsigned char buffer[65535];
  for (;;) {
    struct sockaddr_in peer;
    socklen_t peer_len = sizeof peer;
    ssize_t n = recvfrom(fd, buffer, sizeof buffer, 0, (struct sockaddr *)&peer, &peer_len);
    if (n < 0) {
      if (errno == EINTR) continue;
      perror("udp-echo: recvfrom");
      return 1;
    }
    /*
     * A failed send (e.g. ENETUNREACH while the link is being reconfigured around a migration)
     * must not stop the responder: the next probe may succeed.
     */
    if (sendto(fd, buffer, (size_t)n, 0, (struct sockaddr *)&peer, peer_len) < 0 && errno != EINTR) {
      perror("udp-echo: sendto");
    }
  }
}
