"""Write the JSON Schema of every event and an AsyncAPI 3.0 document of the topics.

uv run python -m contracts.generate          # rewrite contracts/schema/
uv run python -m contracts.generate --check  # exit 1 when the committed files are stale
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from contracts.events import EVENT_TYPES
from contracts.topics import Topic

OUT = Path(__file__).parent / "schema"


def render() -> dict[str, str]:
    files: dict[str, str] = {}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    for name, cls in sorted(EVENT_TYPES.items()):
        schema = cls.model_json_schema(mode="serialization")
        schema["$id"] = (
            f"https://sikerja.bekasikota.go.id/contracts/{name}.v{cls.SCHEMA_VERSION}.json"
        )
        files[f"{name}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
        messages[name] = {
            "name": name,
            "title": name,
            "summary": (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else name,
            "contentType": "application/json",
            "payload": {"$ref": f"./{name}.json"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "NIP"}}},
        }
    for topic in Topic:
        names = sorted(n for n, c in EVENT_TYPES.items() if c.TOPIC == topic)
        channels[topic.name.lower()] = {
            "address": topic.value,
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
        }
    doc = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "SIKERJA integration events",
            "version": "1.0.0",
            "description": "Events exchanged by SIKERJA services over Apache Kafka, keyed by NIP.",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "components": {"messages": messages},
    }
    files["asyncapi.json"] = json.dumps(doc, indent=2, sort_keys=True) + "\n"
    return files


def stale() -> list[str]:
    wanted = render()
    present = {p.name for p in OUT.glob("*.json")} if OUT.exists() else set()
    out = [
        n for n, text in wanted.items() if not (OUT / n).exists() or (OUT / n).read_text() != text
    ]
    return out + sorted(present - set(wanted))


def main(argv: list[str]) -> int:
    if "--check" in argv:
        names = stale()
        if names:
            print("contracts/schema is stale: " + ", ".join(names), file=sys.stderr)
            print("run: uv run python -m contracts.generate", file=sys.stderr)
            return 1
        return 0
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for name, text in render().items():
        (OUT / name).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
