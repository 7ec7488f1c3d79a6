#ifndef WEFT_CMNL_H
#define WEFT_CMNL_H

/* glibc first: linux/libc-compat.h then suppresses the duplicate in6_addr / ifreq / IFF_* definitions. */
#include <sys/socket.h>
#include <netinet/in.h>
#include <net/if.h>
#include <netpacket/packet.h> /* sockaddr_ll, for gratuitous ARP */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/if_link.h>
#include <linux/if_bridge.h>
#include <linux/if_addr.h>
#include <linux/neighbour.h>
#include <linux/veth.h>
#include <linux/if_ether.h>  /* ETH_P_ARP */
#include <linux/genetlink.h>
#include <linux/wireguard.h>
#include <libmnl/libmnl.h>

/* Swift does not import function-like or expression macros: re-export the ones weft needs. */
static inline size_t cmnl_align(size_t len) { return MNL_ALIGN(len); }
static inline size_t cmnl_nlmsg_hdrlen(void) { return MNL_NLMSG_HDRLEN; }
static inline size_t cmnl_attr_hdrlen(void) { return MNL_ATTR_HDRLEN; }

#endif
