"""Python message classes for sightline.v1, built from the .proto files with protoc.

protoc writes a descriptor set (no generated code to keep in sync with the protobuf runtime);
the classes come from that descriptor pool, so they always match the .proto on disk.
"""

import subprocess
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from .paths import CACHE, PROTO_ROOT


class ProtocError(RuntimeError):
    """protoc could not compile the contract."""


def descriptor_set(root: Path = PROTO_ROOT, out: Path = CACHE / "sightline.desc") -> descriptor_pb2.FileDescriptorSet:
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["protoc", f"-I{root}", "--include_imports", f"--descriptor_set_out={out}"]
    cmd += [str(p) for p in sorted((root / "sightline" / "v1").glob("*.proto"))]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ProtocError(f"protoc failed ({done.returncode}): {done.stderr.strip()}")
    return descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())


class Messages:
    """sightline.v1 message classes by short name, e.g. messages.CollectedEvent()."""

    def __init__(self, root: Path = PROTO_ROOT) -> None:
        self.files = descriptor_set(root, CACHE / f"sightline-{abs(hash(str(root)))}.desc")
        self.pool = descriptor_pool.DescriptorPool()
        for file in self.files.file:
            self.pool.Add(file)

    def descriptor(self, name: str):
        return self.pool.FindMessageTypeByName(f"sightline.v1.{name}")

    def enum_value(self, enum: str, value: str) -> int:
        return self.pool.FindEnumTypeByName(f"sightline.v1.{enum}").values_by_name[value].number

    def __getattr__(self, name: str):
        return message_factory.GetMessageClass(self.descriptor(name))
