"""Corpora: the text8 loader (local files, the environment, the cache, a download from a local server),
the packaged text8 sample, and the choice of corpus."""
import gzip
import http.server
import io
import lzma
import threading
import zipfile
from pathlib import Path

import pytest

from torchw2v import datasets
from torchw2v.corpus import open_corpus

SHARED_TEXT8_HEAD = Path(__file__).resolve().parents[2] / "shared" / "data" / "text8-head.gz"

TEXT = b"anarchism originated as a term of abuse first used against early working class radicals"


def _zip_bytes(member="text8", content=TEXT):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(member, content)
    return buffer.getvalue()


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving /text8.zip (and /broken.zip, a wrong archive); counts requests."""
    payloads = {"/text8.zip": _zip_bytes(), "/broken.zip": _zip_bytes(content=TEXT[:10])}
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            requests.append(self.path)
            body = payloads.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", requests, payloads
    httpd.shutdown()
    httpd.server_close()


def test_download_verifies_unpacks_and_caches(server, tmp_path, monkeypatch):
    base, requests, payloads = server
    monkeypatch.delenv("TORCHW2V_TEXT8", raising=False)
    kwargs = dict(url=f"{base}/text8.zip", expected_size=len(TEXT), expected_zip_size=len(payloads["/text8.zip"]),
                  cache=tmp_path)
    path = datasets.text8_path(**kwargs)
    assert path == tmp_path / "text8" and path.read_bytes() == TEXT
    assert datasets.text8_path(**kwargs) == path  # cached: no second download
    assert requests == ["/text8.zip"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["text8"]  # no leftovers
    assert next(iter(open_corpus(path)))[:2] == ["anarchism", "originated"]


def test_wrong_sizes_and_failed_downloads_raise_and_cache_nothing(server, tmp_path, monkeypatch):
    base, _, payloads = server
    monkeypatch.delenv("TORCHW2V_TEXT8", raising=False)
    with pytest.raises(OSError, match="expected"):
        datasets.text8_path(url=f"{base}/broken.zip", expected_size=len(TEXT), expected_zip_size=None,
                            cache=tmp_path)
    with pytest.raises(OSError, match="failed"):
        datasets.text8_path(url=f"{base}/missing.zip", cache=tmp_path)
    assert not (tmp_path / "text8").exists()
    with pytest.raises(FileNotFoundError, match="download=False"):
        datasets.text8_path(download=False, cache=tmp_path)


def test_local_file_and_environment_come_first(tmp_path, monkeypatch):
    local = tmp_path / "my-text8"
    local.write_bytes(TEXT)
    assert datasets.text8_path(local, download=False, cache=tmp_path / "empty") == local
    monkeypatch.setenv("TORCHW2V_TEXT8", str(local))
    assert datasets.text8_path(download=False, cache=tmp_path / "empty") == local
    monkeypatch.setenv("TORCHW2V_TEXT8", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="TORCHW2V_TEXT8"):
        datasets.text8_path(download=False)


def test_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHW2V_DATA", str(tmp_path))
    assert datasets.cache_dir() == tmp_path


def test_best_available_corpus_is_text8_else_the_packaged_sample(server, tmp_path, monkeypatch, caplog):
    base, _, payloads = server
    monkeypatch.delenv("TORCHW2V_TEXT8", raising=False)
    path, is_text8 = datasets.best_available_corpus(url=f"{base}/missing.zip", cache=tmp_path)
    assert (path, is_text8) == (datasets.text8_sample(), False)
    assert "text8 sample packaged with torchw2v" in caplog.text
    resolved = datasets.resolve_corpus(url=f"{base}/missing.zip", cache=tmp_path)
    assert resolved.path == str(datasets.text8_sample())
    assert "first 2,000,000 words of text8" in resolved.description and "CC BY-SA" in resolved.description
    path, is_text8 = datasets.best_available_corpus(url=f"{base}/text8.zip", cache=tmp_path, expected_size=len(TEXT),
                                                    expected_zip_size=len(payloads["/text8.zip"]))
    assert (path, is_text8) == (tmp_path / "text8", True)
    resolved = datasets.resolve_corpus(url=f"{base}/text8.zip", cache=tmp_path, expected_size=len(TEXT))
    assert (resolved.path, resolved.description) == (str(tmp_path / "text8"), f"text8 (`{tmp_path / 'text8'}`)")


def test_resolve_corpus_takes_a_file_or_the_word_text8(tmp_path, monkeypatch):
    corpus = tmp_path / "mine.txt"
    corpus.write_text("a b c\n")
    assert datasets.resolve_corpus(corpus) == datasets.ResolvedCorpus(str(corpus), f"`{corpus}`")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        datasets.resolve_corpus(tmp_path / "missing.txt")
    monkeypatch.setenv("TORCHW2V_TEXT8", str(corpus))
    assert datasets.resolve_corpus("text8").path == str(corpus)


def test_text8_sample_is_the_first_two_million_words_of_text8():
    data = lzma.open(datasets.text8_sample()).read()
    assert len(data.split()) == datasets.TEXT8_SAMPLE_WORDS == 2_000_000
    assert data.startswith(b" anarchism originated as a term of abuse")
    if SHARED_TEXT8_HEAD.is_file():  # the project's byte-exact prefix of text8
        head = gzip.open(SHARED_TEXT8_HEAD).read(len(data) + 1)
        assert head[:len(data)] == data and head[len(data):] == b" "
    sentences = open_corpus(datasets.text8_sample())
    assert sum(map(len, sentences)) == 2_000_000


def test_the_text8_sample_is_package_data():
    """setup.cfg's package_data (wheels) and MANIFEST.in (source distributions) both take the sample."""
    import configparser
    import fnmatch

    root = Path(__file__).resolve().parents[1]
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    patterns = [pattern.strip() for pattern in config["options.package_data"]["torchw2v"].split(",")]
    relative = datasets.text8_sample().relative_to(root / "torchw2v").as_posix()
    assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)
    manifest = (root / "MANIFEST.in").read_text().split()
    assert any(fnmatch.fnmatch(f"torchw2v/{relative}", pattern) for pattern in manifest)
