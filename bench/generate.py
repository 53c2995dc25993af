"""The generated inputs: a spec of N happy-path checks, and N equivalent Tavern tests.

The spec is compact (flow style, about 115 bytes a check) so that 10,000 checks stay well under the
loader's size cap. Its `bench` target reads BENCH_BASE_URL, so the same file runs against any server
the bench started; the key comes from BENCH_API_KEY. Every check asks what the plain loops check:
a 2xx JSON answer with choices[0].message.content.
"""

from __future__ import annotations

from pathlib import Path

BODY = "{model: gpt-4o-mini, messages: [{role: user, content: hi}], max_tokens: 20}"
CHECK = (
    '  - {{id: c{n}, expect: {{status: 2xx, class: success, json: true, require: ["choices[0].message.content"]}}}}\n'
)
HEAD = """version: 1
name: bench-{count}-checks
contract:
  docs: https://example.com/docs
  accessed: 2026-05-08
  path: /v1/chat/completions
  auth: {{secret: BENCH_API_KEY}}
  model: gpt-4o-mini
  timeouts: {{connect: 2s, read: 30s, deadline: 45s}}
  policy_version: "1"
env: {{BENCH_API_KEY: {{secret: true}}, BENCH_BASE_URL: {{}}}}
targets:
  bench: {{base_url: "{{{{ env.BENCH_BASE_URL }}}}"}}
defaults:
  request: {{json: {body}}}
classification:
  - {{id: success, when: {{status: 2xx}}, class: success, retry: no, fallback: no, action: none}}
  - {{id: default, when: {{any: true}}, class: unclassified, retry: no, fallback: no, action: store_fixture_and_alert}}
criteria:
  - {{id: completions-succeed, text: Every completion succeeds., requires: [{ids}]}}
checks:
"""


def spec_text(count: int) -> str:
    ids = ", ".join(f"c{n}" for n in range(1, count + 1))
    return HEAD.format(count=count, body=BODY, ids=ids) + "".join(CHECK.format(n=n) for n in range(1, count + 1))


def write_spec(folder: Path, count: int) -> Path:
    path = folder / f"bench-{count}.yaml"
    if not path.exists():
        path.write_text(spec_text(count), encoding="utf-8")
    return path


TAVERN_TEST = """test_name: c{n}
stages:
  - name: completion
    request:
      url: {url}
      method: POST
      headers: {{authorization: Bearer {key}}}
      json: {body}
    response:
      status_code: 200
      save:
        json:
          content: "choices[0].message.content"
"""


def write_tavern(folder: Path, count: int, url: str, key: str) -> Path:
    """`count` Tavern tests in one file, each one POST checked like a generated check."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "test_bench.tavern.yaml"
    tests = (TAVERN_TEST.format(n=n, url=url, key=key, body=BODY) for n in range(1, count + 1))
    path.write_text("---\n".join(tests), encoding="utf-8")
    (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")  # its own rootdir, not this repo's
    return path
