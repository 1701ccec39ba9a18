#!/bin/sh
# As the official image's entrypoint: redis-server runs as user redis, owning /data.
set -e
if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
    chown -R redis:redis /data
    exec setpriv --reuid=redis --regid=redis --init-groups "$@"
fi
exec "$@"
