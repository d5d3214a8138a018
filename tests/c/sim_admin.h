/* A tiny HTTP client for the simulator's admin endpoints, so that the C tests can inject the
 * same faults as the Rust and Python tests. Plain sockets: loopback only, Connection: close.
 * Compiles as C++ too (the casts), for tests/cpp/. */
#ifndef TSCB_TEST_SIM_ADMIN_H
#define TSCB_TEST_SIM_ADMIN_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim_banner.h"

/* The simulator's base URL, from TSCB_SIM_URL ("http://127.0.0.1:PORT/api"). */
static const char *sim_url(void) {
    const char *url = getenv("TSCB_SIM_URL");
    if (url == NULL) {
        fprintf(stderr, "TSCB_SIM_URL is not set: run the C tests through tests/c/run.sh\n");
        exit(2);
    }
    return url;
}

static int sim_port(void) {
    const char *url = sim_url();
    const char *colon = strrchr(url, ':');
    return colon ? atoi(colon + 1) : 0;
}

/* Sends one admin request; returns the HTTP status (or -1). If `response` is not NULL, it gets
 * the body as a new NUL-terminated string that the caller frees. */
static int sim_admin(const char *method, const char *path, const char *body, char **response) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)sim_port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    char head[512];
    size_t body_len = body ? strlen(body) : 0;
    int n = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                     method, path, body_len);
    if (write(fd, head, (size_t)n) != n || (body_len && write(fd, body, body_len) != (ssize_t)body_len)) {
        close(fd);
        return -1;
    }
    size_t cap = 1 << 16, got = 0;
    char *buf = (char *)malloc(cap);
    ssize_t r;
    while (buf != NULL && (r = read(fd, buf + got, cap - 1 - got)) > 0) {
        got += (size_t)r;
        if (got == cap - 1) {
            char *bigger = (char *)realloc(buf, cap * 2);
            if (bigger == NULL) free(buf);
            buf = bigger;
            cap *= 2;
        }
    }
    close(fd);
    if (buf == NULL) return -1;
    buf[got] = '\0';
    int status = -1;
    if (sscanf(buf, "HTTP/1.1 %d", &status) != 1) status = -1;
    if (response != NULL) {
        const char *start = strstr(buf, "\r\n\r\n");
        start = start ? start + 4 : buf + got;
        *response = (char *)malloc(strlen(start) + 1);
        if (*response != NULL) strcpy(*response, start);
    }
    free(buf);
    return status;
}

/* How many API requests the simulator has received since the last clear. */
static int sim_request_count(void) {
    char *body = NULL;
    int count = -1;
    if (sim_admin("GET", "/__admin/requests", NULL, &body) == 200 && body != NULL) {
        count = 0;
        for (const char *p = body; (p = strstr(p, "\"method\"")) != NULL; p++) count++;
    }
    free(body);
    return count;
}

/* How many recorded API requests have a path ending in `suffix`. */
static int sim_count_path(const char *suffix) {
    char *body = NULL;
    int count = -1;
    char needle[256];
    snprintf(needle, sizeof needle, "%s\"", suffix); /* the path's closing quote */
    if (sim_admin("GET", "/__admin/requests", NULL, &body) == 200 && body != NULL) {
        count = 0;
        for (const char *p = body; (p = strstr(p, needle)) != NULL; p++) count++;
    }
    free(body);
    return count;
}

static void sim_reset(void) {
    sim_admin("DELETE", "/__admin/faults", NULL, NULL);
    sim_admin("DELETE", "/__admin/requests", NULL, NULL);
}

#endif
