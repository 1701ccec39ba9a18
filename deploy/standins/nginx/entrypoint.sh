#!/bin/bash
# The official nginx image's docker-entrypoint.sh, the parts the project uses, in its order:
# 15-local-resolvers.envsh, then /docker-entrypoint.d/*.envsh (sourced, if executable) and
# *.sh (run, if executable) in name order, then 20-envsubst-on-templates.sh. (The official
# image keeps its own steps in /docker-entrypoint.d too, so a mounted 16-*.envsh runs between
# its 15 and 20 there, as here.)
set -euo pipefail
if [ "${1:-}" = nginx ] || [ "${1:-}" = nginx-debug ]; then
    if [ -n "${NGINX_ENTRYPOINT_LOCAL_RESOLVERS:-}" ]; then
        NGINX_LOCAL_RESOLVERS=$(awk 'BEGIN{ORS=" "} $1=="nameserver" {if ($2 ~ ":") {print "["$2"]"} else {print $2}}' /etc/resolv.conf)
        export NGINX_LOCAL_RESOLVERS="${NGINX_LOCAL_RESOLVERS% }"
    fi
    for f in $(find /docker-entrypoint.d/ -follow -mindepth 1 -maxdepth 1 -type f | sort -V); do
        case "$f" in
            *.envsh) if [ -x "$f" ]; then echo "$0: sourcing $f" >&2; . "$f"; fi ;;
            *.sh) if [ -x "$f" ]; then echo "$0: running $f" >&2; "$f"; fi ;;
        esac
    done
    template_dir=${NGINX_ENVSUBST_TEMPLATE_DIR:-/etc/nginx/templates}
    suffix=${NGINX_ENVSUBST_TEMPLATE_SUFFIX:-.template}
    output_dir=${NGINX_ENVSUBST_OUTPUT_DIR:-/etc/nginx/conf.d}
    filter=${NGINX_ENVSUBST_FILTER:-}
    defined=$(printf '${%s} ' $(awk "END { for (name in ENVIRON) { print ( name ~ /${filter}/ ) ? name : \"\" } }" </dev/null))
    if [ -d "$template_dir" ]; then
        find "$template_dir" -follow -type f -name "*$suffix" -print | while read -r template; do
            relative=${template#"$template_dir/"}
            output="$output_dir/${relative%"$suffix"}"
            mkdir -p "$(dirname "$output")"
            echo "$0: envsubst $template -> $output" >&2
            envsubst "$defined" <"$template" >"$output"
        done
    fi
fi
exec "$@"
