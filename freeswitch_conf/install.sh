#!/usr/bin/env bash
# Overlay fs_cc's FreeSWITCH configuration on a vanilla configuration directory
# and generate the deployment's secrets. Idempotent: secrets already generated
# are kept, so it can run on every provisioning.
#
# Environment (all optional):
#   FS_CC_CONF_DIR         FreeSWITCH configuration directory   (/etc/freeswitch)
#   FS_CC_SOUNDS_DIR       the switch's $${sounds_dir}  (from FS_CC_CONF_DIR: /usr/share/freeswitch/sounds, <prefix>/sounds)
#   FS_CC_ESL_PASSWORD     event socket password                (kept, else generated)
#   FS_CC_CONTROL_SECRET   the engine's control secret: mod_xml_curl's credentials for the
#                          agents' directory, and the key the agents' SIP passwords derive from
#                                                                (kept, else generated)
#   FS_CC_CONTROL_PORT     the engine's control port, where the directory binding posts (kept, else 8022)
#   FS_CC_DEFAULT_PASSWORD vanilla default_password override   (kept, else generated)
#   FS_CC_AGENT_ENDPOINT   sofia (SIP phones) | loopback (simulated phones, tests)  (kept, else sofia)
#   FS_CC_TEST_NUMBERS     true enables the 59xx test numbers in context public     (kept, else false)
#   FS_CC_SIP_AGENTS       with loopback: agents that stay SIP phones, e.g. "1019" or "1018,1019";
#                          "none" for no SIP agent                                   (kept, else 1019)
#   FS_CC_CODECS           the switch's codec preferences, browsers need OPUS (or PCMU/PCMA)
#                                                    (kept, else OPUS,G722,PCMU,PCMA)
#   FS_CC_CERTS_DIR        the switch's $${certs_dir}, where sofia reads wss.pem
#                          (from FS_CC_CONF_DIR: /etc/freeswitch/tls, <prefix>/certs)
#   FS_CC_TLS_CERT         the WSS binding's certificate (chain), PEM; with FS_CC_TLS_KEY, its key.
#   FS_CC_TLS_KEY          Both or neither: without them a switch with no wss.pem gets a
#                          self-signed pair (development); an existing wss.pem is kept
#   FS_CC_ENV_FILE         the engine's FS_CC_ESL_URL is written here    (/etc/fs_cc/freeswitch.env)
#   FS_CC_CONTROL_ENV_FILE the engine's FS_CC_CONTROL_SECRET and _PORT     (control.env beside it)
#   FS_CC_FS_CLI_CONF      fs_cli's configuration, "" to skip    (/etc/fs_cli.conf)
#   FS_CC_OWNER            owner:group of the written configuration (freeswitch:freeswitch if it exists)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONF_DIR="${FS_CC_CONF_DIR:-/etc/freeswitch}"
ENV_FILE="${FS_CC_ENV_FILE:-/etc/fs_cc/freeswitch.env}"
CONTROL_ENV_FILE="${FS_CC_CONTROL_ENV_FILE:-$(dirname "$ENV_FILE")/control.env}"
FS_CLI_CONF="${FS_CC_FS_CLI_CONF-/etc/fs_cli.conf}"
SOUNDS_DIR="${FS_CC_SOUNDS_DIR:-}"
VARS_FILE="$CONF_DIR/vars_fs_cc.xml"
AGENTS=$(seq 1000 1019)
OVERLAY_FILES=(
    autoload_configs/event_socket.conf.xml
    autoload_configs/xml_curl.conf.xml
    dialplan/public/00_fs_cc.xml
    dialplan/default/00_fs_cc.xml
)
# The agents' directory entries come from the engine (xml_curl.conf.xml). This static file is
# only a test switch's fallback for its loopback agents 1000-1019 while no engine answers there;
# a production switch has none, or a disabled agent would still be found in it.
AGENT_DIRECTORY=directory/default/fs_cc_agents.xml
# Test switches ring simulated agent phones (dialplan/default's fs_cc_test_agent_phone); SIP
# phones use the vanilla sofia_contact() string the committed directory file holds. The engine
# answers by the same rule (fs_cc/directory.py, EndpointMode).
LOOPBACK_DIAL_STRING='loopback/fs_cc_agent_${dialed_user}/default'
# ...except these, which keep the sofia_contact() string so a test can register a real SIP phone
# (sipp) and have the ACD ring it through the directory as a production switch does.
DEFAULT_SIP_AGENTS=1019

die() { echo "install.sh: $*" >&2; exit 1; }
log() { echo "install.sh: $*"; }

generate_secret() {
    # No pipe reader closes early here, so pipefail cannot trip on SIGPIPE.
    local s=""
    while [ "${#s}" -lt 24 ]; do
        s="$s$(head -c 48 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9')"
    done
    echo "${s:0:24}"
}

check_secret() {
    # The value lands inside an XML attribute and a preprocessor "set" line, and
    # travels in "auth <password>": no quotes, markup, spaces or '$'.
    local name="$1" value="$2"
    [[ "$value" =~ ^[A-Za-z0-9._~+-]{12,128}$ ]] \
        || die "$name must be 12-128 characters of A-Z a-z 0-9 . _ ~ + -"
    [ "$value" != "ClueCon" ] || die "$name must not be the well-known default"
}

existing_var() {
    # Value of a variable already set in vars_fs_cc.xml, empty if none.
    [ -f "$VARS_FILE" ] || return 0
    sed -n "s/.*cmd=\"set\" data=\"$1=\([^\"]*\)\".*/\1/p" "$VARS_FILE" | head -n 1
}

secret_for() {
    # Environment wins, then the value generated on an earlier run, then a new one.
    local var="$1" env_name="$2" value
    value="${!env_name:-}"
    [ -n "$value" ] || value="$(existing_var "$var")"
    [ -n "$value" ] || value="$(generate_secret)"
    check_secret "$env_name" "$value"
    echo "$value"
}

# Settings not given keep the value of the previous run.
AGENT_ENDPOINT="${FS_CC_AGENT_ENDPOINT:-$(existing_var fs_cc_agent_endpoint)}"
AGENT_ENDPOINT="${AGENT_ENDPOINT:-sofia}"
TEST_NUMBERS="${FS_CC_TEST_NUMBERS:-$(existing_var fs_cc_test_numbers)}"
TEST_NUMBERS="${TEST_NUMBERS:-false}"
SIP_AGENTS="${FS_CC_SIP_AGENTS:-$(existing_var fs_cc_sip_agents)}"
SIP_AGENTS="${SIP_AGENTS:-$DEFAULT_SIP_AGENTS}"
CONTROL_PORT="${FS_CC_CONTROL_PORT:-$(existing_var fs_cc_control_port)}"
CONTROL_PORT="${CONTROL_PORT:-8022}"
CODECS="${FS_CC_CODECS:-$(existing_var global_codec_prefs)}"
CODECS="${CODECS:-OPUS,G722,PCMU,PCMA}"
CERTS_DIR="${FS_CC_CERTS_DIR:-}"
TLS_CERT="${FS_CC_TLS_CERT:-}"
TLS_KEY="${FS_CC_TLS_KEY:-}"

if [ ! -f "$CONF_DIR/freeswitch.xml" ]; then
    # a source build keeps its configuration under its prefix: name what is there
    found=""
    for candidate in /usr/local/freeswitch/conf /usr/local/freeswitch/etc/freeswitch; do
        [ -f "$candidate/freeswitch.xml" ] && found="$found $candidate"
    done
    [ -z "${FS_CC_CONF_DIR:-}" ] && [ -n "$found" ] \
        && die "$CONF_DIR/freeswitch.xml not found; a configuration exists in:$found (set FS_CC_CONF_DIR)"
    die "$CONF_DIR/freeswitch.xml not found: install a vanilla configuration first, or set FS_CC_CONF_DIR to the switch's configuration directory (fs_cli -x 'global_getvar conf_dir')"
fi
[ -f "$CONF_DIR/vars.xml" ] || die "$CONF_DIR/vars.xml not found"
case "$AGENT_ENDPOINT" in
    sofia|loopback) ;;
    *) die "FS_CC_AGENT_ENDPOINT must be sofia or loopback, not $AGENT_ENDPOINT" ;;
esac
case "$TEST_NUMBERS" in
    true|false) ;;
    *) die "FS_CC_TEST_NUMBERS must be true or false, not $TEST_NUMBERS" ;;
esac
[[ "$CODECS" =~ ^[A-Za-z0-9@.]+(,[A-Za-z0-9@.]+)*$ ]] \
    || die "FS_CC_CODECS must be codec names separated by commas, not $CODECS"
[[ ",$CODECS," =~ ,(OPUS|opus|PCMU|PCMA)[,@] ]] \
    || die "FS_CC_CODECS must hold OPUS, PCMU or PCMA: browser softphones speak no other ($CODECS)"
if [ -n "$TLS_CERT$TLS_KEY" ]; then
    [ -n "$TLS_CERT" ] && [ -n "$TLS_KEY" ] || die "FS_CC_TLS_CERT and FS_CC_TLS_KEY go together"
    [ -r "$TLS_CERT" ] && grep -q -- '-----BEGIN CERTIFICATE-----' "$TLS_CERT" \
        || die "FS_CC_TLS_CERT must be a readable PEM certificate: $TLS_CERT"
    [ -r "$TLS_KEY" ] && grep -Eq -- '-----BEGIN ([A-Z]+ )?PRIVATE KEY-----' "$TLS_KEY" \
        || die "FS_CC_TLS_KEY must be a readable PEM private key: $TLS_KEY"
    if command -v openssl >/dev/null; then
        [ "$(openssl x509 -noout -pubkey -in "$TLS_CERT" 2>/dev/null)" = \
          "$(openssl pkey -pubout -in "$TLS_KEY" 2>/dev/null)" ] \
            || die "FS_CC_TLS_KEY is not the key of FS_CC_TLS_CERT"
    fi
fi
[[ "$CONTROL_PORT" =~ ^[1-9][0-9]{0,4}$ ]] && [ "$CONTROL_PORT" -le 65535 ] \
    || die "FS_CC_CONTROL_PORT must be a port number, not $CONTROL_PORT"
# SIP passwords derive from the control secret now; one set for a single agent would be ignored.
for name in $(compgen -e); do
    case "$name" in
        FS_CC_AGENT_PASSWORD_*) die "$name is no longer read: agents' SIP passwords derive from FS_CC_CONTROL_SECRET (README, Secrets)" ;;
    esac
done
# A comma- or space-separated list of agents (1000-1019), stored comma-separated; or "none".
if [ "$SIP_AGENTS" != none ]; then
    normalized=""
    for ext in ${SIP_AGENTS//,/ }; do
        [[ " $(echo $AGENTS) " == *" $ext "* ]] \
            || die "FS_CC_SIP_AGENTS must list agents 1000-1019 (or be none), not $SIP_AGENTS"
        normalized="${normalized:+$normalized,}$ext"
    done
    [ -n "$normalized" ] || die "FS_CC_SIP_AGENTS must list agents 1000-1019 (or be none)"
    SIP_AGENTS="$normalized"
fi

if [ -z "$SOUNDS_DIR" ]; then
    case "$CONF_DIR" in
        /etc/freeswitch) SOUNDS_DIR=/usr/share/freeswitch/sounds ;;
        */etc/freeswitch) SOUNDS_DIR="${CONF_DIR%/etc/freeswitch}/share/freeswitch/sounds" ;;
        */conf) SOUNDS_DIR="${CONF_DIR%/conf}/sounds" ;;
        *) die "cannot tell the switch's sounds folder from $CONF_DIR: set FS_CC_SOUNDS_DIR ('fs_cli -x \"global_getvar sounds_dir\"')" ;;
    esac
fi

if [ -z "$CERTS_DIR" ]; then
    case "$CONF_DIR" in
        */etc/freeswitch) CERTS_DIR="$CONF_DIR/tls" ;;
        */conf) CERTS_DIR="${CONF_DIR%/conf}/certs" ;;
        *) die "cannot tell the switch's certificates folder from $CONF_DIR: set FS_CC_CERTS_DIR ('fs_cli -x \"global_getvar certs_dir\"')" ;;
    esac
fi

# 1. Secrets, computed before anything is written so a bad value changes nothing.
ESL_PASSWORD="$(secret_for fs_cc_esl_password FS_CC_ESL_PASSWORD)"
CONTROL_SECRET="$(secret_for fs_cc_control_secret FS_CC_CONTROL_SECRET)"
DEFAULT_PASSWORD="$(secret_for default_password FS_CC_DEFAULT_PASSWORD)"
declare -A AGENT_PASSWORD
if [ "$AGENT_ENDPOINT" = loopback ]; then
    # The static fallback's passwords, by fs_cc's own rule (fs_cc/directory.py, sip_password):
    # an agent's password is the same whether the engine or the file answers.
    [ -f "$HERE/../fs_cc/directory.py" ] \
        || die "a test switch's agent passwords are derived by fs_cc: run install.sh from the fs_cc checkout"
    command -v python3 >/dev/null || die "python3 is needed to derive the agents' SIP passwords"
    # the secret goes through the environment: a command line is visible to every user
    derived="$(cd "$HERE/.." && FS_CC_CONTROL_SECRET="$CONTROL_SECRET" \
        python3 -E -s -m fs_cc.directory sip-passwords $AGENTS)" \
        || die "fs_cc.directory could not derive the agents' SIP passwords"
    while read -r ext password; do
        AGENT_PASSWORD[$ext]="$password"
    done <<< "$derived"
    for ext in $AGENTS; do
        [[ "${AGENT_PASSWORD[$ext]:-}" =~ ^[a-z2-7]{24}$ ]] || die "no SIP password derived for agent $ext"
    done
fi

# 2. The overlay files, the static agents only on a test switch. The agents' dial-string is
# written into the directory file itself:
# FreeSWITCH stores every "${" of a global variable's value as "%{" (switch_core_set_variable),
# so a dial string passed through vars_fs_cc.xml would never expand.
overlay_source() {
    local rel="$1"
    if [ "$rel" = "$AGENT_DIRECTORY" ] && [ "$AGENT_ENDPOINT" = loopback ]; then
        # Every user's dial-string becomes the loopback phone, but the SIP agents'. Those get no
        # unsolicited message-waiting NOTIFY after their REGISTER either: the test's sipp phone
        # takes exactly one call (-m 1), and sipp would count that NOTIFY as its call.
        awk -v dial="$LOOPBACK_DIAL_STRING" -v keep=",$SIP_AGENTS," '
            /<user id="/ { match($0, /id="[^"]*"/); user = substr($0, RSTART + 4, RLENGTH - 5) }
            /name="dial-string"/ && index(keep, "," user ",") == 0 {
                sub(/value="[^"]*"/, "value=\"" dial "\"")
            }
            { print }
            /<variables>/ && index(keep, "," user ",") > 0 {
                match($0, /^ */)
                print substr($0, 1, RLENGTH) "  <variable name=\"send-message-query-on-register\" value=\"false\"/>"
            }' "$HERE/$rel"
    else
        cat "$HERE/$rel"
    fi
}
if [ "$AGENT_ENDPOINT" = loopback ]; then
    OVERLAY_FILES+=("$AGENT_DIRECTORY")
elif [ -f "$CONF_DIR/$AGENT_DIRECTORY" ]; then
    rm -f "$CONF_DIR/$AGENT_DIRECTORY"   # fs_cc's own file, written by an earlier run
    log "removed $AGENT_DIRECTORY: the engine's catalog serves the agents (xml_curl.conf.xml)"
fi
for rel in "${OVERLAY_FILES[@]}"; do
    target="$CONF_DIR/$rel"
    mkdir -p "$(dirname "$target")"
    staged="$(mktemp)"
    overlay_source "$rel" > "$staged"
    if [ -f "$target" ] && [ ! -f "$target.fs_cc-orig" ] && ! cmp -s "$staged" "$target" \
            && ! cmp -s "$HERE/$rel" "$target"; then
        cp -p "$target" "$target.fs_cc-orig"   # not *.xml: FreeSWITCH's globs skip it
    fi
    install -m 0640 "$staged" "$target"
    rm -f "$staged"
done

# 3. Each agent id must exist once in the domain: retire the vanilla 1000-1019 users.
for ext in $AGENTS; do
    vanilla="$CONF_DIR/directory/default/$ext.xml"
    if [ -f "$vanilla" ]; then
        mv "$vanilla" "$vanilla.fs_cc-disabled"
        log "disabled vanilla user $ext"
    fi
done

# 4. vars_fs_cc.xml, written whole then moved into place.
tmp="$(mktemp "$CONF_DIR/.vars_fs_cc.XXXXXX")"
{
    echo '<!-- Generated by fs_cc freeswitch_conf/install.sh: secrets of this deployment. Do not commit. -->'
    echo '<include>'
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"fs_cc_esl_password=$ESL_PASSWORD\"/>"
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"fs_cc_control_secret=$CONTROL_SECRET\"/>"
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"fs_cc_control_port=$CONTROL_PORT\"/>"
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"default_password=$DEFAULT_PASSWORD\"/>"
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"fs_cc_agent_endpoint=$AGENT_ENDPOINT\"/>"
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"fs_cc_test_numbers=$TEST_NUMBERS\"/>"
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"fs_cc_sip_agents=$SIP_AGENTS\"/>"
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"fs_cc_test_agent_answer_delay_ms=0\"/>"
    # codecs for the profiles (read when a profile starts): browsers speak OPUS and PCMU/PCMA
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"global_codec_prefs=$CODECS\"/>"
    echo "  <X-PRE-PROCESS cmd=\"set\" data=\"outbound_codec_prefs=$CODECS\"/>"
    for ext in $AGENTS; do
        [ -n "${AGENT_PASSWORD[$ext]:-}" ] || continue   # a test switch's static agents only
        echo "  <X-PRE-PROCESS cmd=\"set\" data=\"fs_cc_agent_${ext}_password=${AGENT_PASSWORD[$ext]}\"/>"
    done
    echo '</include>'
} > "$tmp"
chmod 0640 "$tmp"
mv "$tmp" "$VARS_FILE"

# 5. vars.xml includes it last, so default_password overrides vanilla's 1234.
if ! grep -q 'data="vars_fs_cc.xml"' "$CONF_DIR/vars.xml"; then
    closing=$(grep -n '</include>' "$CONF_DIR/vars.xml" | tail -n 1 | cut -d: -f1)
    [ -n "$closing" ] || die "$CONF_DIR/vars.xml has no </include> line"
    sed -i "${closing}i\\  <X-PRE-PROCESS cmd=\"include\" data=\"vars_fs_cc.xml\"/>" "$CONF_DIR/vars.xml"
    log "vars.xml now includes vars_fs_cc.xml"
fi

# 5b. The certificate of the internal profile's wss-binding (browser softphones): sofia reads
# $${certs_dir}/wss.pem, the certificate (chain) followed by its key, when the profile starts.
WSS_PEM="$CERTS_DIR/wss.pem"
mkdir -p "$CERTS_DIR"
if [ -n "$TLS_CERT" ]; then
    staged="$(mktemp "$CERTS_DIR/.wss.XXXXXX")"
    { cat "$TLS_CERT"; echo; cat "$TLS_KEY"; } | grep -v '^$' > "$staged"
    chmod 0640 "$staged"
    if cmp -s "$staged" "$WSS_PEM"; then
        rm -f "$staged"
    else
        mv "$staged" "$WSS_PEM"
        log "wss.pem: the configured certificate installed in $CERTS_DIR ('sofia profile internal restart' applies it)"
    fi
elif [ ! -s "$WSS_PEM" ]; then
    if command -v openssl >/dev/null; then
        name="$(hostname -f 2>/dev/null || hostname)"
        work="$(mktemp -d)"
        openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$name" \
            -addext "subjectAltName=DNS:$name,DNS:localhost,IP:127.0.0.1" \
            -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null \
            || die "openssl could not make a self-signed certificate"
        cat "$work/cert.pem" "$work/key.pem" > "$work/wss.pem"
        install -m 0640 "$work/wss.pem" "$WSS_PEM"
        rm -rf "$work"
        log "wss.pem: self-signed certificate for $name made in $CERTS_DIR (development only: give FS_CC_TLS_CERT and FS_CC_TLS_KEY in production)"
    else
        log "WARNING: no openssl to make wss.pem: FreeSWITCH makes its own self-signed one at start"
    fi
fi
INTERNAL_PROFILE="$CONF_DIR/sip_profiles/internal.xml"
if [ -f "$INTERNAL_PROFILE" ] && ! grep -Eq '^[[:space:]]*<param name="wss-binding"' "$INTERNAL_PROFILE"; then
    log "WARNING: $INTERNAL_PROFILE has no wss-binding: browser softphones cannot register (README, Browser softphone)"
fi

# 6. The engine's connection settings, and fs_cli's (it would try ClueCon otherwise).
mkdir -p "$(dirname "$ENV_FILE")" "$(dirname "$CONTROL_ENV_FILE")"
umask 077
# fs_cc's settings read FS_CC_ESL_URL as HOST:PORT:PASSWORD (fs_cc/config.py).
cat > "$ENV_FILE" <<EOF
FS_CC_ESL_URL=127.0.0.1:8021:$ESL_PASSWORD
EOF
# The engine's control interface as the directory binding reaches it. The engine reads these
# (and so does a web on this host, which signs its commands with the same secret): switch and
# engine agree on the credentials, and the SIP passwords the engine derives are the web's.
cat > "$CONTROL_ENV_FILE" <<EOF
FS_CC_CONTROL_SECRET=$CONTROL_SECRET
FS_CC_CONTROL_PORT=$CONTROL_PORT
EOF
if [ -n "$FS_CLI_CONF" ]; then
    mkdir -p "$(dirname "$FS_CLI_CONF")"
    cat > "$FS_CLI_CONF" <<EOF
[default]
host => 127.0.0.1
port => 8021
password => $ESL_PASSWORD
EOF
fi

# 7. The prompts and hold music fs_cc's flows play (freeswitch_conf/sounds, generated stand-ins
# for FreeSWITCH's English sound pack): without a prompt, play_and_get_digits reads no keys. A
# file the switch already has (the real sound pack) is kept.
added=0
while IFS= read -r -d '' file; do
    rel="${file#"$HERE/sounds/"}"
    if [ ! -e "$SOUNDS_DIR/$rel" ]; then
        install -D -m 0644 "$file" "$SOUNDS_DIR/$rel"
        added=$((added + 1))
    fi
done < <(find "$HERE/sounds" -name '*.wav' -print0 | sort -z)
log "sounds: $added file(s) added to $SOUNDS_DIR"

# 8. Modules fs_cc needs, as the switch's modules.conf.xml loads them. Vanilla leaves
# mod_xml_curl commented out, and without it no agent can register or be rung: turn it on.
MODULES_CONF="$CONF_DIR/autoload_configs/modules.conf.xml"
XML_CURL_OFF='^([[:space:]]*)<!--[[:space:]]*(<load module="mod_xml_curl"/>)[[:space:]]*-->[[:space:]]*$'
if [ -f "$MODULES_CONF" ] && grep -Eq "$XML_CURL_OFF" "$MODULES_CONF"; then
    [ -f "$MODULES_CONF.fs_cc-orig" ] || cp -p "$MODULES_CONF" "$MODULES_CONF.fs_cc-orig"
    sed -i -E "s%$XML_CURL_OFF%\\1\\2%" "$MODULES_CONF"
    log "modules.conf.xml now loads mod_xml_curl"
fi
if [ -f "$MODULES_CONF" ]; then
    missing=""
    for mod in $(grep -o 'module="mod_[a-z0-9_]*"' "$HERE/fragments/modules.conf.xml" | cut -d'"' -f2); do
        grep -Eq "^[[:space:]]*<load module=\"$mod\"" "$MODULES_CONF" || missing="$missing $mod"
    done
    [ -z "$missing" ] || log "WARNING: $MODULES_CONF does not load:$missing"
fi

# 9. FreeSWITCH must be able to read what was written.
OWNER="${FS_CC_OWNER:-}"
if [ -z "$OWNER" ] && [ "$(id -u)" = 0 ] && id freeswitch >/dev/null 2>&1; then
    OWNER="freeswitch:freeswitch"
fi
if [ -n "$OWNER" ]; then
    chown "$OWNER" "$VARS_FILE"
    for rel in "${OVERLAY_FILES[@]}"; do chown "$OWNER" "$CONF_DIR/$rel"; done
    [ -f "$WSS_PEM" ] && chown "$OWNER" "$WSS_PEM"
fi

log "done: restart FreeSWITCH (or 'reloadxml', 'reload mod_event_socket', 'reload mod_xml_curl', for new hold music 'reload mod_local_stream', for new codecs or a new certificate 'sofia profile internal restart') to apply; start the engine with $ENV_FILE and $CONTROL_ENV_FILE"
