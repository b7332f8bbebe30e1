#!/bin/sh
# dhclient's hook for fake machines: address, default route, MTU and no
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
esac
exit 0
