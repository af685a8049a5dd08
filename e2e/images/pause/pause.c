/* The pod sandbox's "pause" process: PID 1 of the pod's namespaces, it holds them open and does
 * nothing else. Built static (gcc -static) so the image is one file and needs no registry.
 * Same contract as Kubernetes' pause: exit 0 on SIGINT/SIGTERM, reap children if it has any. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }

int main(void) {
    struct sigaction sa = {0};
    sa.sa_handler = stop;
    if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) return 1;
    sa.sa_handler = reap;
    sa.sa_flags = SA_NOCLDSTOP;
    if (sigaction(SIGCHLD, &sa, NULL) < 0) return 2;
    for (;;) pause();
}
