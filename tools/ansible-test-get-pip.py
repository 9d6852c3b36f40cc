# Copyright: (c) 2026, vmfleet.compute contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip into each private venv with a get-pip script it
fetches from an Ansible server, which machines without general internet
access cannot reach. `make` copies this file where ansible-test caches that
script (~/.ansible/test/cache/get_pip_<version>.py). It installs pip from the
interpreter's own ensurepip, then the packages ansible-test asked for, from
the package registry the machine is configured for.
"""

import ensurepip
import os
import subprocess
import sys

# ensurepip points PIP_CONFIG_FILE at os.devnull, which would hide the
# machine's pip configuration (index mirrors, CA bundle).
ensurepip.bootstrap(upgrade=True)
env = dict(os.environ)
env.pop("PIP_CONFIG_FILE", None)
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
sys.exit(subprocess.call([sys.executable, "-m", "pip", "install"] + args, env=env))
