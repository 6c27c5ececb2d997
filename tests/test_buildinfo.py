"""The info file of a build, one format for setup.sh, host.py and the report."""

from __future__ import annotations

from ccwheel.buildinfo import FIELDS, BuildInfo


def test_what_is_written_reads_back_the_same() -> None:
    info = BuildInfo(
        ccache="/opt/ccwheel/bin/x86_64/ccache",
        origin="ccwheel",
        version="4.14.2",
        arch="x86_64",
        container="aarch64",
        emulated="no",
        cache="shared",
        unrouted=("/opt/cc", "gcc-13:not-found"),
        routed=("cc", "gcc"),
    )
    text = info.format()
    assert [p.split("=")[0] for p in text.split()] == list(FIELDS)
    assert BuildInfo.parse(text) == info
    assert info.as_json()["unrouted"] == "/opt/cc,gcc-13:not-found"


def test_a_field_it_does_not_know_and_an_empty_list_are_no_trouble() -> None:
    info = BuildInfo.parse("origin=image version=4.9 unrouted= routed= later=field\n")
    assert info == BuildInfo(origin="image", version="4.9")
    assert info.not_routed() is None


def test_a_host_path_with_a_space_stays_one_field() -> None:
    text = BuildInfo(ccache="C:/Program Files/ccache.exe", origin="ccwheel").format()
    assert BuildInfo.parse(text).origin == "ccwheel"


def test_each_unrouted_compiler_is_said_with_why() -> None:
    info = BuildInfo(unrouted=("/usr/bin/gcc", "gcc-13:not-found", "CC:by-a-command"))
    assert info.not_routed() == (
        "not routed: /usr/bin/gcc (named by full path), gcc-13 (found on no PATH), "
        "CC (set by a command)"
    )
