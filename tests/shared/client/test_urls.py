"""Where `ServiceClient` sends a path, over every shape of base URL and path (hypothesis), and
how a URL is shown in messages (no credentials, no secret query values)."""

from __future__ import annotations

import string

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opsconductor_shared import REDACTED
from opsconductor_shared.client import ServiceClient, ServiceClientSettings
from opsconductor_shared.client._urls import base_url_of, join_url, public_url

segments = st.text(alphabet=string.ascii_letters + string.digits + "-_~", min_size=1, max_size=8)
prefixes = st.lists(segments, max_size=3)
paths = st.lists(segments, min_size=1, max_size=4)
leading = st.sampled_from(["", "/", "//"])


async def sent_to(base: str, path: str, **options: object) -> httpx.URL:
    """The URL a GET of `path` reaches, through a client of `base`."""
    seen: list[httpx.URL] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={})

    async with ServiceClient("up", base, transport=httpx.MockTransport(handler)) as client:
        await client.get(path, **options)  # type: ignore[arg-type]
        assert client.url_for(path).copy_with(query=None) == seen[0].copy_with(query=None)
    (url,) = seen
    return url


def expected_path(prefix: list[str], path: list[str], *, trailing: bool = False) -> str:
    return "/" + "/".join([*prefix, *path]) + ("/" if trailing else "")


@given(
    prefix=prefixes,
    base_slash=st.booleans(),
    path=paths,
    slashes=leading,
    path_slash=st.booleans(),
)
def test_a_path_lands_under_the_prefix_however_slashes_are_written(
    prefix: list[str], base_slash: bool, path: list[str], slashes: str, path_slash: bool
) -> None:
    base = "http://upstream:8000" + "".join(f"/{part}" for part in prefix)
    base_url = base_url_of(base + ("/" if base_slash else ""))
    url = join_url(base_url, slashes + "/".join(path) + ("/" if path_slash else ""))
    assert (url.host, url.port) == ("upstream", 8000)
    assert url.path == expected_path(prefix, path, trailing=path_slash)
    # The base URL never ends in "/", so concatenating "/path" makes no "//".
    assert str(base_url) == base
    assert httpx.URL(f"{base_url}/{'/'.join(path)}").path == expected_path(prefix, path)


@given(prefix=prefixes, path=paths, slashes=leading)
def test_the_query_of_a_path_is_kept(prefix: list[str], path: list[str], slashes: str) -> None:
    base = base_url_of("http://upstream" + "".join(f"/{part}" for part in prefix))
    url = join_url(base, slashes + "/".join(path) + "?a=1&a=2#fragment")
    assert url.path == expected_path(prefix, path)
    assert url.params.multi_items() == [("a", "1"), ("a", "2")]
    assert url.fragment == ""


@pytest.mark.parametrize("base", ["http://upstream:8000/api/v1/", "http://upstream:8000/api/v1"])
@pytest.mark.parametrize("path", ["/targets/1", "targets/1", "//targets/1"])
@pytest.mark.anyio
async def test_the_client_sends_where_it_joins(base: str, path: str) -> None:
    url = await sent_to(base, path, params={"b": "2"})
    assert str(url) == "http://upstream:8000/api/v1/targets/1?b=2"


@pytest.mark.anyio
async def test_an_absolute_url_is_used_as_it_is() -> None:
    assert await sent_to("http://upstream/api", "http://other:9000/verify") == httpx.URL(
        "http://other:9000/verify"
    )


def test_the_settings_url_with_its_trailing_slash() -> None:
    # pydantic's AnyHttpUrl adds "/" to a bare host: the health URL must still be right.
    client = ServiceClient.from_settings(
        "targets", ServiceClientSettings(url="http://targets:8000")
    )
    assert str(client.base_url) == "http://targets:8000"
    assert str(client.url_for("/health/live")) == "http://targets:8000/health/live"


@pytest.mark.parametrize("bad", ["targets:8000", "/relative", "ftp://files/x", ""])
def test_a_base_url_must_be_absolute_http(bad: str) -> None:
    with pytest.raises(ValueError, match="absolute http"):
        base_url_of(bad)


def test_public_url_drops_credentials_fragments_and_secret_values() -> None:
    url = httpx.URL("https://svc:hunter2@targets:8000/api/x?page=2&api_key=k3y&Token=t0k#frag")
    shown = public_url(url)
    assert shown == f"https://targets:8000/api/x?page=2&api_key={REDACTED}&Token={REDACTED}"
    for secret in ("svc", "hunter2", "k3y", "t0k", "frag"):
        assert secret not in shown


@given(
    key=st.sampled_from(["token", "access_token", "password", "X-Signature", "apiKey"]),
    value=st.text(alphabet=string.ascii_letters + string.digits, min_size=4, max_size=20),
)
def test_a_secret_query_value_never_shows(key: str, value: str) -> None:
    url = httpx.URL("http://targets/x", params={key: value, "page": "1"})
    assert value not in public_url(url).split("?", 1)[1].replace("page=1", "")
