#!/bin/sh
# dhclient's hook for fake machines (-4 and -6): address, default route, MTU and no
# more.  Debian's own script would also rewrite the machine-wide
# /etc/resolv.conf, which a test must never touch.
case "$reason" in
    PREINIT)
        ip link set dev "$interface" up
        ;;
    BOUND|RENEW|REBIND|REBOOT)
        if [ -n "$old_ip_address" ] && [ "$old_ip_address" != "$new_ip_address" ]; then
            ip -4 addr flush dev "$interface"
        fi
        if [ -n "$new_interface_mtu" ]; then
            ip link set dev "$interface" mtu "$new_interface_mtu"
        fi
        ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface"
        for router in $new_routers; do
            ip -4 route replace default via "$router" dev "$interface"
            break
        done
        ;;
    EXPIRE|FAIL|RELEASE|STOP)
        ip -4 addr flush dev "$interface"
        ;;
    PREINIT6)
        ip link set dev "$interface" up
        ;;
    BOUND6|RENEW6|REBIND6|REBOOT6)
        if [ -n "$old_ip6_address" ] && [ "$old_ip6_address" != "$new_ip6_address" ]; then
            ip -6 addr del "$old_ip6_address/$old_ip6_prefixlen" dev "$interface" 2>/dev/null
        fi
        if [ -n "$new_ip6_address" ]; then
            ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface"
        fi
        ;;
    EXPIRE6|RELEASE6|STOP6)
        if [ -n "$old_ip6_address" ]; then
            ip -6 addr del "$old_ip6_address/$old_ip6_prefixlen" dev "$interface" 2>/dev/null
        fi
        ;;
esac
exit 0
