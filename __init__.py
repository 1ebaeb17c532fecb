from . import controllers, instrumentation, models, wizard
from .storage import store

# Wrapping Odoo's WSGI entry at import covers every process that loads a registry with the addon; listing
# the addon in server_wide_modules (post_load) also covers the very first request of each worker.
instrumentation.install()


def post_load():
    instrumentation.install()


def uninstall_hook(env):
    store.drop_tables(env.cr)
