/*
 * LD_PRELOAD fault injection for redis-server: what a machine crash does to its
 * append-only file. Writes to files whose path contains ".aof" are held in this
 * process's memory, like dirty pages in the kernel's page cache, and reach the
 * file only on fsync/fdatasync (or close). A SIGKILL of the process then loses
 * exactly what a power cut would: everything written since the last fsync.
 * (Without it, a SIGKILL loses nothing that Redis wrote: the kernel keeps it.)
 *
 * Built by test/helpers/page-cache-loss.ts: cc -shared -fPIC -O2 -o X.so X.c -ldl -lpthread
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_FD 4096

static struct {
  int held; /* 1: an AOF opened by this process */
  char *buf;
  size_t len, cap;
} files[MAX_FD];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_close)(int);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);

static void init(void) {
  if (real_write) return;
  real_write = dlsym(RTLD_NEXT, "write");
  real_fsync = dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
  real_close = dlsym(RTLD_NEXT, "close");
  real_open = dlsym(RTLD_NEXT, "open");
  real_open64 = dlsym(RTLD_NEXT, "open64");
  real_openat = dlsym(RTLD_NEXT, "openat");
}

static void track(int fd, const char *path) {
  if (fd < 0 || fd >= MAX_FD) return;
  pthread_mutex_lock(&lock);
  files[fd].held = strstr(path, ".aof") != NULL;
  files[fd].len = 0;
  pthread_mutex_unlock(&lock);
}

/* Writes what fd holds to the file. Called with the lock held. */
static int flush_held(int fd) {
  size_t off = 0;
  while (off < files[fd].len) {
    ssize_t n = real_write(fd, files[fd].buf + off, files[fd].len - off);
    if (n < 0) return -1;
    off += (size_t)n;
  }
  files[fd].len = 0;
  return 0;
}

#define OPEN_MODE(flags, mode) \
  mode_t mode = 0;             \
  if ((flags) & (O_CREAT | O_TMPFILE)) { va_list ap; va_start(ap, flags); mode = va_arg(ap, int); va_end(ap); }

int open(const char *path, int flags, ...) {
  init();
  OPEN_MODE(flags, mode);
  int fd = real_open(path, flags, mode);
  track(fd, path);
  return fd;
}

int open64(const char *path, int flags, ...) {
  init();
  OPEN_MODE(flags, mode);
  int fd = real_open64(path, flags, mode);
  track(fd, path);
  return fd;
}

int openat(int dirfd, const char *path, int flags, ...) {
  init();
  OPEN_MODE(flags, mode);
  int fd = real_openat(dirfd, path, flags, mode);
  track(fd, path);
  return fd;
}

ssize_t write(int fd, const void *data, size_t n) {
  init();
  if (fd < 0 || fd >= MAX_FD || !files[fd].held) return real_write(fd, data, n);
  pthread_mutex_lock(&lock);
  if (files[fd].len + n > files[fd].cap) {
    size_t cap = (files[fd].len + n) * 2;
    char *grown = realloc(files[fd].buf, cap);
    if (!grown) { pthread_mutex_unlock(&lock); return -1; }
    files[fd].buf = grown;
    files[fd].cap = cap;
  }
  memcpy(files[fd].buf + files[fd].len, data, n);
  files[fd].len += n;
  pthread_mutex_unlock(&lock);
  return (ssize_t)n;
}

static int synced(int fd, int (*real)(int)) {
  init();
  if (fd >= 0 && fd < MAX_FD && files[fd].held) {
    pthread_mutex_lock(&lock);
    int r = flush_held(fd);
    pthread_mutex_unlock(&lock);
    if (r < 0) return -1;
  }
  return real(fd);
}

int fsync(int fd) { init(); return synced(fd, real_fsync); }
int fdatasync(int fd) { init(); return synced(fd, real_fdatasync); }

int close(int fd) {
  init();
  if (fd >= 0 && fd < MAX_FD && files[fd].held) {
    pthread_mutex_lock(&lock);
    flush_held(fd);
    files[fd].held = 0;
    pthread_mutex_unlock(&lock);
  }
  return real_close(fd);
}
