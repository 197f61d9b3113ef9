"""Where `silkway serve-demo` listens: HOST:PORT from --bind or SILKWAY_BIND, --port over it; a bad or
busy address is refused with a message before anything starts."""

from __future__ import annotations

import socket

import pytest

from web.worker.serve import Address, parse_bind


@pytest.mark.parametrize(
    ("text", "bind", "url"),
    [
        ("127.0.0.1:8080", "127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("localhost:9000", "localhost:9000", "http://localhost:9000"),
        ("0.0.0.0:8123", "0.0.0.0:8123", "http://127.0.0.1:8123"),
        ("[::1]:8080", "[::1]:8080", "http://[::1]:8080"),
        ("[::]:8080", "[::]:8080", "http://[::1]:8080"),
    ],
)
def test_a_bind_is_read_as_host_and_port_with_the_url_this_machine_reaches(text, bind, url):
    address = parse_bind(text)
    assert address.bind == bind
    assert address.url == url


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("8080", "is not HOST:PORT"),
        ("127.0.0.1", "is not HOST:PORT"),
        ("127.0.0.1:http", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:0", "the port must be a number from 1 to 65535"),
        ("127.0.0.1:65536", "the port must be a number from 1 to 65535"),
        ("::1:8080", "IPv6 address in brackets"),
        ("unix:/tmp/silkway.sock", "the demo serves TCP"),
    ],
)
def test_a_bad_bind_says_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_bind(text)


def test_port_replaces_the_port_of_the_bind(app):
    result = app.test_cli_runner().invoke(
        args=["serve-demo", "--check", "--port", "8123"], env={"SILKWAY_BIND": "127.0.0.1:9999"}
    )
    assert result.exit_code == 0, result.output
    assert "the demo will be at http://127.0.0.1:8123/" in result.output
    assert Address("127.0.0.1", 8123).bind == "127.0.0.1:8123"


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--port", "0"], {}, "Invalid value for '--port': the port must be a number from 1 to 65535"),
        (["--port", "80a"], {}, "the port must be a number from 1 to 65535, not '80a'"),
        (["--port", "70000"], {}, "the port must be a number from 1 to 65535, not '70000'"),
        ([], {"SILKWAY_BIND": "localhost"}, "Invalid value for SILKWAY_BIND: 'localhost' is not HOST:PORT"),
        (["--bind", "127.0.0.1:99999"], {}, "Invalid value for '--bind'"),
    ],
)
def test_a_bad_port_or_bind_is_refused_with_a_message(app, args, env, message):
    result = app.test_cli_runner().invoke(args=["serve-demo", *args], env=env)
    assert result.exit_code == 2
    assert message in result.output


def test_a_port_in_use_is_refused_before_anything_starts(app):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = app.test_cli_runner().invoke(args=["serve-demo", "--port", str(port)])
    assert result.exit_code == 1
    assert f"127.0.0.1:{port} is already in use" in result.output
    assert "make demo PORT=" in result.output


def test_an_address_not_of_this_machine_is_refused(app):
    result = app.test_cli_runner().invoke(args=["serve-demo", "--bind", "192.0.2.1:8080"])
    assert result.exit_code == 1
    assert "192.0.2.1 is not an address of this machine" in result.output
