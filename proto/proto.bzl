"""chronik_proto_library: C++ (and optionally gRPC) code from a .proto file, offline.

Bazel's native cc_proto_library would download @com_google_protobuf, so this macro runs
Debian's protoc (and /usr/bin/grpc_cpp_plugin) in a genrule and wraps the output in a
cc_library. One line in a BUILD file:

    chronik_proto_library(name = "raft_proto", src = "raft.proto", grpc = True)

`proto_deps` lists other chronik_proto_library targets whose .proto files `src` imports.
Code includes the generated header by its workspace path, e.g. "proto/raft.pb.h".
"""

def chronik_proto_library(name, src, grpc = False, proto_deps = [], visibility = None):
    if not src.endswith(".proto"):
        fail("chronik_proto_library: src must be a .proto file, got " + src)
    base = src[:-len(".proto")]
    outs = [base + ".pb.h", base + ".pb.cc"]
    cmd = "protoc -I. --cpp_out=$(GENDIR)"
    if grpc:
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
        cmd += " --grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin"
    cmd += " $(location " + src + ")"
    native.filegroup(
        name = name + "_srcs",
        srcs = [src] + [d + "_srcs" for d in proto_deps],
        visibility = visibility,
    )
    native.genrule(
        name = name + "_gen",
        srcs = [src] + [d + "_srcs" for d in proto_deps],
        outs = outs,
        cmd = cmd,
        message = "protoc " + src,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = ["@system//:protobuf"] + (["@system//:grpc"] if grpc else []) + proto_deps,
        visibility = visibility,
    )
