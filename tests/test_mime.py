"""hrdp.mime against the stdlib parser it replaces: the same structure on every real
message of the corpus, and compat32's rules on the edge cases written here."""

from __future__ import annotations

import base64
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from pathlib import Path

import pytest

from hrdp import mime

# Types hrdp.mime reads as text where compat32 builds sub-messages from the fields.
_CONTAINERS = ("message/rfc822", "message/global", "message/news")

Shape = tuple[str, list[tuple[str, str]], str | None]


def _same_text(value: str) -> str:
    """Line ends as "\\n" and no trailing blank lines: what neither parser promises."""
    return value.replace("\r\n", "\n").replace("\r", "\n").rstrip()


def stdlib_shape(msg: Message) -> list[Shape]:
    ctype = msg.get_content_type()
    fields = [(name, _same_text(value)) for name, value in msg.raw_items()]
    payload = vars(msg)["_payload"]
    if ctype.startswith("message/") and ctype not in _CONTAINERS:
        return [(ctype, fields, None)]
    text = _same_text(payload) if isinstance(payload, str) else None
    shape: list[Shape] = [(ctype, fields, text)]
    if isinstance(payload, list):
        for child in payload:
            shape.extend(stdlib_shape(child))
    return shape


def mime_shape(part: mime.Part) -> list[Shape]:
    ctype = part.get_content_type()
    fields = [(name, _same_text(value)) for name, value in part.raw_items()]
    if ctype.startswith("message/") and ctype not in _CONTAINERS:
        return [(ctype, fields, None)]
    children = part.children
    shape: list[Shape] = [(ctype, fields, _same_text(part.body) if children is None else None)]
    for child in children or []:
        shape.extend(mime_shape(child))
    return shape


def same_as_stdlib(raw: bytes) -> bool:
    return mime_shape(mime.parse(raw)) == stdlib_shape(message_from_bytes(raw, policy=compat32))


# Where hrdp.mime differs from compat32 on purpose (see the module docstring).
_KNOWN = {
    "flanker__enclosed-endless.eml",  # nests 3,000 parts deep: bounded at MAX_PARTS
    "flanker__mailformed-headers.eml",  # only a close boundary: the body kept whole
}


def test_every_corpus_message_has_the_stdlib_structure(corpus: Path) -> None:
    files = [p for p in sorted(corpus.rglob("*")) if p.is_file() and p.suffix == ".eml"]
    assert len(files) > 4000
    differ = [p.name for p in files if not same_as_stdlib(p.read_bytes())]
    assert sorted(differ) == sorted(_KNOWN)


@pytest.mark.parametrize(
    "raw",
    [
        b"Subject: a\r\nFrom: b@example.com\r\n\r\nbody\r\nline\r\n",  # CR LF
        b"Subject: a\rFrom: b@example.com\r\rbody\r",  # CR alone
        b"Subject: a\nFrom: b@example.com\r\n\nbody\n",  # mixed: CR LF then LF
        b"Subject: a\r\r\nbody\r\r\n",  # DragonFly's CR CR LF: two line ends
        b"Subject: a\n folded\n\tagain\nX: 1\n\nbody",
        b"From sender@example.com Mon Jan  1 00:00:00 2024\nSubject: a\n\nbody\n",
        b"Subject: a\nStatus : 5.1.1\nX: 2\n\nbody\n",  # "Status :" is no field: body starts
        b"Subject: a\nthis is not a header\n\nbody\n",
        b" leading continuation\nSubject: a\n\nbody\n",
        b"\nSubject: not a header: the first line is blank\n",
        b"Subject: only headers\nX: 1\n",
        b"",
        b"no header at all\n\nbody\n",
        b"Subject: \xe4\xf6 8-bit\n\nbody \xff\n",
        b":no name\nSubject: a\n\nbody\n",
        b"Subject: a\rnot a header\nX: 1\n\nbody\n",  # a CR alone ends a line here too
        b"Subject: a\nFrom x\n cont\n\tmore\nX: 1\n\nbody\n",  # "From " line, continuations
        b"Subject: a\nX: 1\n",  # LF header lines and no blank line
        b"Subject: a\n\n",
    ],
)
def test_headers_and_body_split_as_compat32_does(raw: bytes) -> None:
    assert same_as_stdlib(raw)


def _multipart(body: bytes, ctype: bytes = b"multipart/mixed", boundary: bytes = b"b1") -> bytes:
    return b'Content-Type: ' + ctype + b'; boundary="' + boundary + b'"\n\n' + body


@pytest.mark.parametrize(
    "raw",
    [
        _multipart(b"preamble\n--b1\nContent-Type: text/plain\n\none\n--b1\n\ntwo\n--b1--\nend\n"),
        _multipart(b"--b1\r\n\r\none\r\n--b1  \r\n\r\ntwo\r\n--b1--\r\n"),  # blanks after
        _multipart(b"--b1\n\none\n--b1\n\nno close boundary\n"),
        _multipart(b"no boundary line at all\n"),
        _multipart(b"--b1-not\n\nprefix only\n--b1\n\nreal\n--b1--\n"),
        _multipart(
            b"--b1\nContent-Type: multipart/alternative; boundary=b1-inner\n\n"
            b"--b1-inner\n\ninner one\n--b1-inner--\n--b1\n\nouter two\n--b1--\n"
        ),
        _multipart(b"--b1\n\nSubject: a digest part\n\nbody\n--b1--\n", b"multipart/digest"),
        _multipart(
            b"--b1\nContent-Type: message/rfc822\n\nSubject: inner\n\ninner body\n--b1\n"
            b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; a\n\n"
            b"Final-Recipient: rfc822; x@example.com\nStatus: 5.1.1\n--b1--\n",
            b"multipart/report",
        ),
        b"Content-Type: multipart/mixed\n\nno boundary parameter\n",
        b"Content-Type: multipart/mixed; boundary=unquoted\n\n--unquoted\n\nbody\n--unquoted--\n",
        b"Content-Type: text\n\nnot a type: read as text/plain\n",
    ],
)
def test_multipart_bodies_split_as_compat32_does(raw: bytes) -> None:
    assert same_as_stdlib(raw)


def test_delivery_status_is_read_as_its_text() -> None:
    fields = b"Reporting-MTA: dns; a\n\nFinal-Recipient: rfc822; x@example.com\nStatus : 5.1.1\n"
    raw = _multipart(
        b"--b1\nContent-Type: message/delivery-status\n\n" + fields + b"--b1--\n",
        b"multipart/report",
    )
    report = mime.parse(raw).children
    assert report is not None
    assert report[0].get_content_type() == "message/delivery-status"
    assert report[0].children is None
    assert report[0].body == fields.decode().rstrip("\n")


def test_encoded_message_rfc822_is_decoded_before_it_is_parsed() -> None:
    inner = base64.encodebytes(b"Subject: inner\nMessage-ID: <a@b>\n\nhello\n")
    raw = _multipart(
        b"--b1\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n" + inner
        + b"--b1--\n"
    )
    children = mime.parse(raw).children
    assert children is not None
    returned = children[0].children
    assert returned is not None
    assert returned[0].get("message-id") == "<a@b>"


def test_nesting_is_bounded() -> None:
    raw = b"Content-Type: message/rfc822\n\n" * (mime.MAX_DEPTH + 20) + b"Subject: deep\n\nx\n"
    depth = sum(1 for _part in mime.parse(raw).walk())
    assert depth == mime.MAX_DEPTH + 1
    wide = _multipart(b"".join(b"--b1\n\npart\n" for _ in range(mime.MAX_PARTS + 50)) + b"--b1--\n")
    assert sum(1 for _part in mime.parse(wide).walk()) == mime.MAX_PARTS


def test_walk_is_depth_first_and_parses_children_as_it_reaches_them() -> None:
    inner = b"--b2\n\ntwo\n--b2\n\nthree\n--b2--\n"
    raw = _multipart(b"--b1\n\none\n--b1\nContent-Type: multipart/mixed; boundary=b2\n\n"
                     + inner + b"--b1\n\nfour\n--b1--\n")
    part = mime.parse(raw)
    walk = part.walk()
    assert next(walk) is part and part._read is False
    assert [p.body for p in walk] == ["one", inner.decode().rstrip("\n"), "two", "three", "four"]


def test_bodies_are_split_only_when_read() -> None:
    part = mime.parse(_multipart(b"--b1\n\none\n--b1--\n"))
    assert part._read is False  # headers alone answered get_content_type()
    assert part.get_content_type() == "multipart/mixed"
    assert part._read is False
    assert part.is_multipart()
    assert part._read is True


@pytest.mark.parametrize(
    ("body", "encoding", "expected"),
    [
        ("aGVsbG8gd29ybGQ=\n", "base64", b"hello world"),
        ("aGVsbG8gd29y\nbGQ\n", "BASE64", b"hello world"),  # folded, padding lost
        ("caf=C3=A9 =\nsoft\n", "quoted-printable", "café soft\n".encode()),
        ("plain \udce9\n", "8bit", b"plain \xe9\n"),  # 8-bit bytes come back as they were
        ("aGVs\r\n\tbG8g\x0bd29y\x1cbGQ=", "base64", b"hello world"),  # any whitespace
    ],
)
def test_transfer_decoding(body: str, encoding: str, expected: bytes) -> None:
    assert mime.decode_transfer(body, encoding) == expected


def test_base64_with_a_plain_footer_keeps_the_decoded_text() -> None:
    # A list server appended its footer as plain text after a base64 body (seen in the
    # SpamAssassin corpus): the text before it still decodes; nothing raises.
    data = mime.decode_transfer("aGVsbG8gd29ybGQ=\n\n-- \nlist footer\n", "base64")
    assert data.startswith(b"hello world")
    assert isinstance(mime.decode_transfer("=!*", "base64"), bytes)


@pytest.mark.parametrize(
    ("value", "name", "expected"),
    [
        ('multipart/report; report-type=delivery-status; boundary="a;b"', "boundary", "a;b"),
        ("multipart/mixed; BOUNDARY=plain", "boundary", "plain"),
        ('text/plain; charset="UTF-8"', "charset", "UTF-8"),
        ("text/plain; charset*=utf-8''%e9", "charset", "%e9"),
        ('multipart/mixed; boundary="esc\\"aped"', "boundary", 'esc"aped'),
        ("text/plain", "charset", None),
    ],
)
def test_parameters(value: str, name: str, expected: str | None) -> None:
    assert mime.param(value, name) == expected


def test_plugins_can_still_have_the_stdlib_message() -> None:
    from hrdp.message import ParsedMessage

    raw = _multipart(b"--b1\nContent-Type: text/plain\n\nhello\n--b1--\n")
    message = ParsedMessage(raw)
    assert message.email.get_content_type() == message.msg.get_content_type() == "multipart/mixed"
    assert [p.get_content_type() for p in message.email.walk()] == [
        p.get_content_type() for p in message.msg.walk()]
