/* Network namespace setup: bring the loopback interface up over rtnetlink (libmnl). */
#include "namespaces/namespaces.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static void socket_closep(struct mnl_socket **nl)
{
    if (*nl != NULL)
        (void)mnl_socket_close(*nl);
}

int net_loopback_up(struct vessel_error **err)
{
    char buf[8192];  /* MNL_SOCKET_BUFFER_SIZE is not a constant */
    unsigned int index = if_nametoindex("lo");
    if (index == 0)
        return vessel_error_set(err, errno, "loopback: find interface \"lo\"");

    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWLINK;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    unsigned int seq = (unsigned int)time(NULL);
    nlh->nlmsg_seq = seq;
    struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
    ifm->ifi_family = AF_UNSPEC;
    ifm->ifi_index = (int)index;
    ifm->ifi_flags = IFF_UP;
    ifm->ifi_change = IFF_UP;

    __attribute__((cleanup(socket_closep))) struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
    if (nl == NULL)
        return vessel_error_set(err, errno, "loopback: open rtnetlink socket");
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
        return vessel_error_set(err, errno, "loopback: bind rtnetlink socket");
    unsigned int portid = mnl_socket_get_portid(nl);
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
        return vessel_error_set(err, errno, "loopback: send RTM_NEWLINK");
    for (;;) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return vessel_error_set(err, errno, "loopback: receive rtnetlink reply");
        }
        /* The ACK is an NLMSG_ERROR carrying 0, or the error of the request. */
        int r = mnl_cb_run(buf, (size_t)n, seq, portid, NULL, NULL);
        if (r < 0)
            return vessel_error_set(err, errno, "loopback: set \"lo\" up");
        if (r == MNL_CB_STOP)
            return 0;
    }
}
