#!/usr/bin/env python3
"""Derives images that differ from a base image only in their configured USER, as one
docker-archive, without building anything.

    derive-user.py BASE.tar OUT.tar NAME=USER [NAME=USER ...]      (USER "" = no USER: root)

BASE.tar is a docker-archive of one image (what `buildah push docker-archive:` or `docker save`
writes). OUT.tar holds one entry per NAME in its manifest.json, every entry naming the base's own
layer files (stored once) and a config that is the base's with `config.User` replaced. The layers
keep their digests, so containerd, which already holds them from the base image, stores nothing
twice and unpacks nothing again: deriving and importing costs one sequential copy of the archive.
Used by hack/images.sh for the test images of AdmissionBypassE2E (a root agent, a `USER 1447` one).
"""
import hashlib
import io
import json
import sys
import tarfile


def main(base, out, variants):
    with tarfile.open(base, "r:") as src:
        manifest = json.load(src.extractfile("manifest.json"))
        if len(manifest) != 1:
            sys.exit(f"derive-user.py: {base} holds {len(manifest)} images, expected 1")
        entry = manifest[0]
        config = json.load(src.extractfile(entry["Config"]))
        entries, configs = [], {}
        for name, user in variants:
            derived = json.loads(json.dumps(config))
            derived.setdefault("config", {})["User"] = user
            # The base's inputs label would make the derived image look like the base to a reader.
            labels = derived["config"].get("Labels") or {}
            labels["dev.capgate.derived-from"] = ",".join(entry.get("RepoTags") or [])
            labels["dev.capgate.user"] = user or "(none: root)"
            derived["config"]["Labels"] = labels
            blob = json.dumps(derived, separators=(",", ":")).encode()
            file = hashlib.sha256(blob).hexdigest() + ".json"
            configs[file] = blob
            entries.append({"Config": file, "RepoTags": [name], "Layers": entry["Layers"]})
        # Everything but the base's own manifest, tags and config: the layers (and whatever
        # links or directories the writer used for them) are copied as they are.
        skip = {"manifest.json", "repositories", entry["Config"]}
        with tarfile.open(out, "w:", format=tarfile.PAX_FORMAT) as dst:
            for member in src:
                if member.name not in skip:
                    dst.addfile(member, src.extractfile(member) if member.isfile() else None)
            for file, blob in configs.items():
                add(dst, file, blob)
            add(dst, "manifest.json", json.dumps(entries).encode())


def add(dst, name, blob):
    info = tarfile.TarInfo(name)
    info.size = len(blob)
    info.mode = 0o644
    dst.addfile(info, io.BytesIO(blob))


if __name__ == "__main__":
    if len(sys.argv) < 4 or any("=" not in a for a in sys.argv[3:]):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], [tuple(a.split("=", 1)) for a in sys.argv[3:]])
