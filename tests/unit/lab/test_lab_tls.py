# -*- coding: utf-8 -*-
"""`lab up --transport tls`: the lab CA and certificates (made with the real openssl), each host's own pki
in its libvirtd.conf and at libvirt's default client paths, the controller's URIs that name its client
certificate by pkipath, and the peers' URIs that do not."""

import importlib.util
import os
import shutil
import subprocess

import pytest

LAB = os.path.join(os.path.dirname(__file__), "..", "..", "..", "lab", "lab.py")

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed (make deps)")


@pytest.fixture
def lab(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("vmfleet_lab_tls", LAB)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "ROOT", str(tmp_path))
    return module


def openssl(*args):
    return subprocess.run(["openssl"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


def test_tls_uris_name_the_host_address_and_the_pki_path_under_the_lab_root(lab, tmp_path):
    assert lab.transport_uri("hv2", lab.TLS) == "qemu+tls://%s/system?pkipath=%s/pki" % (
        lab.host_address("hv2"), tmp_path)
    assert lab.transport_uri("hv2", lab.SSH) == lab.host_uri("hv2") == "qemu+ssh://root@%s/system" % (
        lab.host_address("hv2"))


def test_peers_reach_a_tls_host_without_the_controllers_pkipath(lab, tmp_path):
    yaml = pytest.importorskip("yaml")
    lab.write_inventory(["hv1", "hv2"], "kvm", "1gbit", lab.TLS)
    hosts = yaml.safe_load((tmp_path / "inventory.yml").read_text())["all"]["children"]["hypervisors"]["hosts"]
    for name in ("hv1", "hv2"):
        assert hosts[name]["vmfleet_libvirt_uri"] == lab.transport_uri(name, lab.TLS)
        assert hosts[name]["vmfleet_migration_uri"] == "qemu+tls://%s/system" % lab.host_address(name)
    # over ssh the host's own URI is its peers' too: no migration URI
    lab.write_inventory(["hv1", "hv2"], "kvm", "1gbit", lab.SSH)
    hosts = yaml.safe_load((tmp_path / "inventory.yml").read_text())["all"]["children"]["hypervisors"]["hosts"]
    assert all("vmfleet_migration_uri" not in hosts[name] for name in ("hv1", "hv2"))


def test_a_tls_host_listens_on_its_own_address_with_its_own_certificates(lab, tmp_path):
    lab.write_config("hv2", lab.TLS)
    conf = (tmp_path / "hv2" / "etc" / "libvirtd.conf").read_text()
    assert 'listen_tls = 1' in conf and 'listen_tcp = 0' in conf
    assert 'listen_addr = "%s"' % lab.host_address("hv2") in conf
    # inside the host's /etc/libvirt (its own folder), never the machine's /etc/pki
    assert 'cert_file = "/etc/libvirt/pki/servercert.pem"' in conf
    assert 'key_file = "/etc/libvirt/pki/serverkey.pem"' in conf
    assert 'ca_file = "/etc/libvirt/pki/cacert.pem"' in conf
    assert "/etc/pki" not in conf.replace("/etc/libvirt/pki", "")
    assert lab.running_transport("hv2") == lab.TLS
    lab.write_config("hv2", lab.SSH)
    conf = (tmp_path / "hv2" / "etc" / "libvirtd.conf").read_text()
    assert 'listen_tls = 0' in conf and "cert_file" not in conf
    assert lab.running_transport("hv2") == lab.SSH


def test_lab_up_on_a_running_lab_keeps_its_transport(lab):
    assert lab.recorded("vmfleet_lab_transport") is None
    lab.write_inventory(["hv1"], "kvm", "1gbit", lab.TLS)
    assert lab.recorded("vmfleet_lab_transport") == lab.TLS


def test_a_bad_transport_is_refused_naming_the_choices(lab, capsys):
    with pytest.raises(SystemExit):
        lab.main(["up", "--transport", "tcp"])
    said = capsys.readouterr().err
    assert "--transport" in said and "'ssh'" in said and "'tls'" in said


@needs_openssl
def test_the_lab_pki_gives_every_host_a_server_and_a_client_certificate_of_the_lab_ca(lab, tmp_path):
    lab.ensure_pki(["hv1", "hv2"])
    ca = os.path.join(lab.ca_dir(), "cacert.pem")
    folders = [lab.client_pki_dir()] + [lab.host_pki_dir(n) for n in ("hv1", "hv2")]
    for folder in folders:
        assert open(os.path.join(folder, "cacert.pem")).read() == open(ca).read()
        assert openssl("verify", "-CAfile", ca, "-purpose", "sslclient",
                       os.path.join(folder, "clientcert.pem")).returncode == 0
        assert oct(os.stat(os.path.join(folder, "clientkey.pem")).st_mode & 0o777) == "0o600"
    server = os.path.join(lab.host_pki_dir("hv2"), "servercert.pem")
    assert openssl("verify", "-CAfile", ca, "-purpose", "sslserver", server).returncode == 0
    # an address is matched against the certificate's IP entries: that is what the URI names
    assert openssl("x509", "-in", server, "-noout", "-checkip", lab.host_address("hv2")).stdout.strip().endswith(
        "does match certificate")
    assert "does NOT match" in openssl("x509", "-in", server, "-noout", "-checkip", lab.host_address("hv1")).stdout
    # the controller has no server certificate, and the CA's key stays outside every pkipath
    assert not os.path.exists(os.path.join(lab.client_pki_dir(), "servercert.pem"))
    assert all("cakey.pem" not in os.listdir(folder) for folder in folders)
    # each host's own client certificate and key, and the CA, where libvirt looks when a URI names no
    # pkipath, in the folder mounted over the host's /etc/pki
    for name in ("hv1", "hv2"):
        default = lab.host_default_pki_dir(name)
        cert = os.path.join(default, "libvirt", "clientcert.pem")
        assert open(cert).read() == open(os.path.join(lab.host_pki_dir(name), "clientcert.pem")).read()
        assert openssl("x509", "-in", cert, "-noout", "-subject").stdout.strip().endswith("CN = %s" % name)
        key = os.path.join(default, "libvirt", "private", "clientkey.pem")
        assert open(key).read() == open(os.path.join(lab.host_pki_dir(name), "clientkey.pem")).read()
        assert oct(os.stat(key).st_mode & 0o777) == "0o600"
        assert open(os.path.join(default, "CA", "cacert.pem")).read() == open(ca).read()
    # made once: a second `lab up` keeps them
    before = open(server).read()
    lab.ensure_pki(["hv1", "hv2"])
    assert open(server).read() == before


@needs_openssl
def test_a_reissued_certificate_can_be_for_another_name(lab):
    lab.ensure_pki(["hv1", "hv2"])
    lab.issue_server_certificate("hv2", lab.host_address("hv1"))
    server = os.path.join(lab.host_pki_dir("hv2"), "servercert.pem")
    assert "does NOT match" in openssl("x509", "-in", server, "-noout", "-checkip", lab.host_address("hv2")).stdout
    lab.issue_server_certificate("hv2")
    assert openssl("x509", "-in", server, "-noout", "-checkhost", "hv2").stdout.strip().endswith("does match certificate")


@needs_openssl
def test_a_certificate_of_another_ca_does_not_verify(lab, tmp_path):
    lab.ensure_pki(["hv1"])
    lab.lab_pki.ensure_ca(str(tmp_path / "other-ca"), "not the lab")
    lab.lab_pki.issue(str(tmp_path / "stranger"), lab.lab_pki.CLIENT, ca_dir=str(tmp_path / "other-ca"),
                      organisation="not the lab", common_name="stranger")
    assert openssl("verify", "-CAfile", os.path.join(lab.ca_dir(), "cacert.pem"),
                   str(tmp_path / "stranger" / "clientcert.pem")).returncode != 0


def test_names_become_ip_or_dns_entries(lab):
    assert lab.lab_pki.subject_alt_name("10.103.0.12") == "IP:10.103.0.12"
    assert lab.lab_pki.subject_alt_name("hv2") == "DNS:hv2"


def test_lab_cert_is_refused_for_an_unknown_host_or_an_ssh_lab(lab, capsys):
    lab.write_config("hv1", lab.SSH)
    assert lab.main(["cert", "hv4"]) == 2
    assert "hv4: no such lab host (hosts: hv1)" in capsys.readouterr().err
    assert lab.main(["cert", "hv1"]) == 2
    assert "the lab runs with --transport ssh" in capsys.readouterr().err
