# vmfleet.compute: the two commands of the README, and the steps they are made of.
#   make demo   set up, start the 3-host local lab, run the main playbook on it
#   make test   set up, then unit tests, ansible-test sanity, ansible-lint, integration on the lab
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON     ?= python3
VENV       ?= $(CURDIR)/.venv
LAB_HOSTS  ?= 3
# each lab host's link, both ways (tc units)
LAB_LINK_RATE ?= 1gbit
# how the controller and the hosts' migrations reach a lab host: ssh, or tls (a lab CA, qemu+tls)
LAB_TRANSPORT ?= ssh
# several labs side by side: VMFLEET_LAB_INSTANCE=N (0-9) moves subnet, bridge, namespaces and root
export VMFLEET_LAB_INSTANCE ?= 0
export VMFLEET_LAB_ROOT ?= /var/lib/vmfleet-lab$(if $(filter-out 0,$(VMFLEET_LAB_INSTANCE)),-$(VMFLEET_LAB_INSTANCE))
INVENTORY  ?= $(VMFLEET_LAB_ROOT)/inventory.yml

BIN        := $(VENV)/bin
COLLECTIONS := $(CURDIR)/.build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/vmfleet/compute
# outside the checkout: inside it, ansible-test would ask git, which ignores .build;
# one folder per checkout, so that two checkouts' sanity runs never share files
SANITY_ROOT := $(or $(TMPDIR),/tmp)/vmfleet-compute-sanity-$(shell printf %s "$(CURDIR)" | md5sum | cut -c1-8)/ansible_collections/vmfleet/compute
GET_PIP_CACHE := $(HOME)/.ansible/test/cache

# Ansible finds this checkout as the collection vmfleet.compute.
export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg

.PHONY: help demo test deps venv collection lab lab-status lab-down units sanity lint integration bench build clean fresh-check

help:
	@sed -n '2,3p' Makefile | sed 's/^# *//'
	@echo "other targets: deps venv lab lab-status lab-down units sanity lint integration bench build clean"
	@echo "fresh-check (root): the setup and units sanity lint in a fresh Debian 12 root, from HEAD"

demo: deps venv collection lab
	$(BIN)/ansible-playbook -i $(INVENTORY) playbooks/site.yml

test: deps venv collection lab units sanity lint integration

deps:
	@tools/install-deps.sh

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/activate requirements.txt requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed

collection:
	@mkdir -p $(dir $(COLLECTION_LINK))
	@ln -sfn $(CURDIR) $(COLLECTION_LINK)

lab: deps
	lab/lab up --hosts $(LAB_HOSTS) --link-rate $(LAB_LINK_RATE) --transport $(LAB_TRANSPORT)

lab-status:
	lab/lab status

lab-down:
	lab/lab down

units: venv collection
	$(BIN)/python -m pytest -q tests/unit

# ansible-test wants the collection under ansible_collections/<ns>/<name>/ and
# reads every file there: it runs on a clean copy of the tracked files.
sanity: venv
	rm -rf $(SANITY_ROOT) && mkdir -p $(SANITY_ROOT)
	git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar -c --null -T - -f - | tar -x -C $(SANITY_ROOT)
	@mkdir -p $(GET_PIP_CACHE)
	@# the pip version ansible-test bootstraps into its venvs names the cached script
	v=$$(sed -n "s/^ *pip='\([0-9.]*\)',/\\1/p" $(VENV)/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | tr . _); \
	  cp tools/ansible-test-get-pip.py $(GET_PIP_CACHE)/get_pip_$$v.py
	cd $(SANITY_ROOT) && $(BIN)/ansible-test sanity --python 3.11 --requirements --color no

lint: venv collection
	$(BIN)/ansible-lint --profile production --offline roles playbooks

integration: venv collection lab
	VMFLEET_INVENTORY=$(INVENTORY) $(BIN)/python -m pytest -v tests/integration

# every benchmark runs; the target fails at the end when one of them missed its target
bench: venv collection
	@status=0; \
	$(BIN)/python bench/numa_fit_vs_nova.py --quiet || status=1; \
	$(BIN)/python bench/schedule_vs_nova.py || status=1; \
	$(BIN)/python bench/state_store_claims.py || status=1; \
	$(BIN)/python bench/admission_control.py || status=1; \
	exit $$status

build: venv
	mkdir -p .build/dist && $(BIN)/ansible-galaxy collection build --force --output-path .build/dist .

# The README's setup and units, sanity, lint on a fresh minimal Debian 12 (mmdebstrap, chroot),
# from the committed tree: what a warm machine hides fails here. Options: FRESH_CHECK_ARGS=--help
fresh-check:
	tools/fresh-check $(FRESH_CHECK_ARGS)

clean:
	rm -rf .build tests/output
