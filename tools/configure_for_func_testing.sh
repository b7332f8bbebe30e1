#!/bin/bash
# Installs and starts everything a fullstack run needs, on Debian 12 or Ubuntu,
# with or without systemd.  Safe to run again: a provisioned machine only gets
# checked (a second run takes about a second).
set -euo pipefail

RABBIT_ADMIN_USER=${FULLSTACK_RABBITMQ_ADMIN_USER:-fullstack_admin}
RABBIT_ADMIN_PASSWORD=${FULLSTACK_RABBITMQ_ADMIN_PASSWORD:-fullstack_admin}
MGMT_URL=http://127.0.0.1:15672
DB_USER=openstack_citest
DB_PASSWORD=openstack_citest
PACKAGES=(openvswitch-switch openvswitch-common rabbitmq-server mariadb-server
          mariadb-client iproute2 iptables iputils-ping tcpdump dnsmasq-base
          conntrack isc-dhcp-client ethtool curl procps graphviz radvd ipset haproxy)

say() { echo "configure: $*"; }
die() { echo "configure: ERROR: $*" >&2; exit 1; }

have_systemd() { [ -d /run/systemd/system ]; }

check_platform() {
    [ "$(id -u)" = 0 ] || die "must run as root (try: sudo $0)"
    [ -r /etc/os-release ] || die "cannot read /etc/os-release; only Debian and Ubuntu are supported"
    # shellcheck disable=SC1091
    . /etc/os-release
    case " ${ID:-} ${ID_LIKE:-} " in
        *" debian "*|*" ubuntu "*) ;;
        *) die "only Debian-like systems are supported, this is '${PRETTY_NAME:-unknown}'" ;;
    esac
    command -v apt-get >/dev/null || die "apt-get not found on this Debian-like system"
}

install_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$pkg")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "packages: all ${#PACKAGES[@]} already installed"
        return
    fi
    say "packages: installing ${missing[*]}"
    # Without an init system, stop the packages' maintainer scripts from
    # trying to start services: this script starts them itself.
    local policy_created=
    if ! have_systemd && [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy_created=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    [ -n "$policy_created" ] && rm -f /usr/sbin/policy-rc.d
    say "packages: installed ${#missing[@]}"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local deadline=$((SECONDS + $1)) what=$2
    shift 2
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

mysql_up() { mysqladmin --protocol=socket ping; }

start_mariadb() {
    if mysql_up >/dev/null 2>&1; then
        say "mariadb: running"
        return
    fi
    if have_systemd; then
        systemctl start mariadb
    else
        install -d -o mysql -g mysql /run/mysqld
        if [ ! -d /var/lib/mysql/mysql ]; then
            say "mariadb: initialising the data directory"
            mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
        fi
        install -d -o mysql -g adm /var/log/mysql
        setsid mariadbd --user=mysql >>/var/log/mysql/fullstack-mariadbd.log 2>&1 < /dev/null &
    fi
    wait_for 60 mariadb mysql_up \
        || die "mariadb did not start in 60 s; see /var/log/mysql/fullstack-mariadbd.log"
    say "mariadb: started"
}

create_db_account() {
    local have
    have=$(mariadb -N -B -e "SELECT COUNT(*) FROM mysql.user WHERE user='$DB_USER'")
    if [ "$have" -ge 3 ]; then
        say "mariadb: account $DB_USER exists"
        return
    fi
    local host sql=""
    for host in localhost 127.0.0.1 '%'; do
        sql+="CREATE USER IF NOT EXISTS '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASSWORD';"
        sql+="GRANT ALL PRIVILEGES ON *.* TO '$DB_USER'@'$host';"
    done
    mariadb -e "$sql FLUSH PRIVILEGES;"
    say "mariadb: created account $DB_USER (may create and drop databases)"
}

mgmt_api_up() {
    curl -sf -o /dev/null -u "$RABBIT_ADMIN_USER:$RABBIT_ADMIN_PASSWORD" "$MGMT_URL/api/whoami"
}

configure_rabbitmq() {
    local conf=/etc/rabbitmq/rabbitmq.conf
    if ! grep -q 'fullstack' "$conf" 2>/dev/null; then
        # AMQP on every address, so host namespaces (240.0.0.0/8) reach it;
        # the management API only on loopback, for the harness.
        cat >> "$conf" <<'CONF'
# fullstack harness (tools/configure_for_func_testing.sh)
listeners.tcp.default = 5672
management.tcp.ip = 127.0.0.1
management.tcp.port = 15672
disk_free_limit.absolute = 50MB
CONF
        say "rabbitmq: wrote $conf"
    fi
    if ! grep -q rabbitmq_management /etc/rabbitmq/enabled_plugins 2>/dev/null; then
        rabbitmq-plugins --offline enable rabbitmq_management >/dev/null
        say "rabbitmq: enabled the management plugin"
    fi
    # The Erlang node name is rabbit@<hostname>: the name must resolve.
    if ! getent hosts "$(hostname)" >/dev/null; then
        echo "127.0.1.1 $(hostname)" >> /etc/hosts
        say "rabbitmq: added $(hostname) to /etc/hosts"
    fi
}

rabbit_running() { rabbitmq-diagnostics -q check_running; }

start_rabbitmq() {
    if mgmt_api_up; then
        say "rabbitmq: running, management API answers for $RABBIT_ADMIN_USER"
        return
    fi
    configure_rabbitmq
    if ! rabbit_running >/dev/null 2>&1; then
        if have_systemd; then
            systemctl start rabbitmq-server
        else
            rabbitmq-server -detached >/dev/null 2>&1 || true
        fi
        wait_for 120 rabbitmq rabbit_running \
            || die "rabbitmq did not start in 120 s; see /var/log/rabbitmq/"
        say "rabbitmq: started"
    fi
    if ! rabbitmqctl -q list_users | grep -q "^$RABBIT_ADMIN_USER\b"; then
        rabbitmqctl -q add_user "$RABBIT_ADMIN_USER" "$RABBIT_ADMIN_PASSWORD" >/dev/null
    else
        rabbitmqctl -q change_password "$RABBIT_ADMIN_USER" "$RABBIT_ADMIN_PASSWORD" >/dev/null
    fi
    rabbitmqctl -q set_user_tags "$RABBIT_ADMIN_USER" administrator >/dev/null
    rabbitmqctl -q set_permissions -p / "$RABBIT_ADMIN_USER" '.*' '.*' '.*' >/dev/null
    wait_for 60 "management API" mgmt_api_up \
        || die "rabbitmq management API does not answer on $MGMT_URL"
    say "rabbitmq: admin account $RABBIT_ADMIN_USER ready"
}

open_firewall() {
    # Host namespaces reach RabbitMQ and the server from 240.0.0.0/8.
    if iptables -C INPUT -s 240.0.0.0/8 -j ACCEPT 2>/dev/null; then
        say "iptables: 240.0.0.0/8 already accepted"
    elif iptables -I INPUT -s 240.0.0.0/8 -j ACCEPT 2>/dev/null; then
        say "iptables: accepting 240.0.0.0/8"
    else
        say "iptables: cannot add a rule (no netfilter?); relying on an open INPUT chain"
    fi
}

check_openvswitch() {
    local bin
    for bin in ovsdb-server ovs-vswitchd ovsdb-tool ovs-vsctl ovs-ofctl ovs-appctl; do
        command -v "$bin" >/dev/null || die "$bin missing after installing openvswitch-switch"
    done
    [ -r /usr/share/openvswitch/vswitch.ovsschema ] || die "OVS schema missing"
    say "openvswitch: $(ovs-vswitchd --version | head -1) (the harness starts its own instances)"
}

main() {
    check_platform
    install_packages
    check_openvswitch
    start_mariadb
    create_db_account
    start_rabbitmq
    open_firewall
    say "done in ${SECONDS} s"
}

main "$@"
