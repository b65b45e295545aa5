#!/usr/bin/env python3
"""Generates C++ Kafka message structs from messages.schema.

Usage: gen_messages.py SCHEMA OUT_H OUT_CC
The schema grammar is described at the top of messages.schema. For each message
the output has a struct with one member per field (snake_case), nested struct
types declared inside it, and per-version Decode/Encode/FillForTest methods.
Run by a Bazel genrule; the output is never committed.
"""
import re
import sys

INT_TYPES = {"int8": "int8_t", "int16": "int16_t", "int32": "int32_t",
             "int64": "int64_t"}
PRIMITIVES = set(INT_TYPES) | {"bool", "uuid", "string", "bytes", "records"}
NO_FLEXIBLE = 0x7fff


class SchemaError(Exception):
    pass


def parse_versions(text, where):
    """'N+' | 'N-M' | 'N' | 'none' -> (lo, hi) inclusive, or None."""
    if text == "none":
        return None
    m = re.fullmatch(r"(\d+)\+", text)
    if m:
        return (int(m.group(1)), NO_FLEXIBLE)
    m = re.fullmatch(r"(\d+)-(\d+)", text)
    if m:
        return (int(m.group(1)), int(m.group(2)))
    m = re.fullmatch(r"(\d+)", text)
    if m:
        return (int(m.group(1)), int(m.group(1)))
    raise SchemaError(f"{where}: bad version range '{text}'")


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


class Field:
    def __init__(self, name, type_, versions, attrs, where):
        self.name = name
        self.cname = snake(name)
        self.type = type_
        self.versions = versions
        self.nullable = parse_versions(attrs["null"], where) if "null" in attrs else None
        self.tag = int(attrs["tag"]) if "tag" in attrs else None
        self.default = attrs.get("default")
        # member=last: declared after the struct's other members (aggregate
        # initializers written before the field existed stay valid); the
        # wire order is still the schema's.
        self.member_last = attrs.get("member") == "last"
        self.children = []
        self.where = where
        # Records of a response (Fetch's) are a ByteChain: the stored batches
        # as slices, spliced into the frame by a splicing Writer.
        self.chain = False

    @property
    def is_array(self):
        return self.type.startswith("[]")

    @property
    def elem(self):
        return self.type[2:] if self.is_array else self.type

    @property
    def is_struct(self):
        return self.elem not in PRIMITIVES


class Message:
    def __init__(self, name, kind, key, versions, flexible):
        self.name = name
        self.kind = kind
        self.key = key
        self.versions = versions
        self.flexible = flexible
        self.fields = []


def parse(text):
    messages = []
    stack = []  # (indent, field list)
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        where = f"line {lineno}"
        indent = len(line) - len(line.lstrip(" "))
        words = line.split()
        if indent == 0:
            if words[0] != "message" or len(words) != 6:
                raise SchemaError(f"{where}: expected a message line")
            attrs = dict(w.split("=", 1) for w in words[3:])
            versions = parse_versions(attrs["versions"], where)
            flex = parse_versions(attrs["flexible"], where)
            msg = Message(words[1], words[2], int(attrs["key"]), versions,
                          flex[0] if flex else NO_FLEXIBLE)
            messages.append(msg)
            stack = [(0, msg.fields)]
            continue
        if indent % 2:
            raise SchemaError(f"{where}: odd indentation")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        if not stack:
            raise SchemaError(f"{where}: field outside a message")
        if len(words) < 3:
            raise SchemaError(f"{where}: field needs name, type, versions")
        attrs = {}
        for w in words[3:]:
            k, _, v = w.partition("=")
            attrs[k] = v
        field = Field(words[0], words[1], parse_versions(words[2], where), attrs, where)
        field.chain = msg.kind == "response" and field.elem == "records"
        stack[-1][1].append(field)
        stack.append((indent, field.children))
    for msg in messages:
        check_fields(msg, msg.fields)
    return messages


def check_fields(msg, fields):
    for f in fields:
        if f.is_struct and not f.children:
            raise SchemaError(f"{f.where}: struct type {f.elem} has no fields")
        if not f.is_struct and f.children:
            raise SchemaError(f"{f.where}: primitive field with children")
        if f.tag is not None and f.versions[0] < msg.flexible:
            raise SchemaError(f"{f.where}: tagged field in a non-flexible version")
        check_fields(msg, f.children)


def cond(rng, var="version"):
    """C++ condition for 'version in rng'; '' when always true."""
    if rng is None:
        return "false"
    lo, hi = rng
    parts = []
    if lo > 0:
        parts.append(f"{var} >= {lo}")
    if hi != NO_FLEXIBLE:
        parts.append(f"{var} <= {hi}")
    return " && ".join(parts)


def wrap_if(c, body, indent):
    pad = " " * indent
    if not c:
        return [pad + line for line in body]
    return [pad + f"if ({c}) {{"] + [pad + "  " + line for line in body] + [pad + "}"]


def elem_cpp(f):
    e = f.elem
    if f.chain:
        return "ByteChain"
    if e in INT_TYPES:
        return INT_TYPES[e]
    return {"bool": "bool", "uuid": "Uuid", "string": "std::string",
            "bytes": "std::string", "records": "SharedBytes"}.get(e, e)


def cpp_type(f):
    base = elem_cpp(f)
    if f.is_array:
        base = f"std::vector<{base}>"
    if f.nullable is not None and (f.is_array or f.elem in ("string", "bytes", "records")):
        return f"std::optional<{base}>"
    return base


def is_optional(f):
    return cpp_type(f).startswith("std::optional")


def default_init(f):
    t = cpp_type(f)
    d = f.default
    if f.is_array or f.is_struct:
        return " = std::vector<%s>()" % elem_cpp(f) if (is_optional(f) and d != "null") else ""
    if f.elem in INT_TYPES:
        return f" = static_cast<{t}>(INT64_C({d}))" if d else " = 0"
    if f.elem == "bool":
        return f" = {d}" if d in ("true", "false") else " = false"
    if f.elem == "uuid":
        return " = {}"
    # string/bytes/records
    if is_optional(f):
        if d == "null":
            return ""
        if f.elem == "records":
            return " = ByteChain()" if f.chain else " = SharedBytes()"
        return " = std::string()"
    if d == "null":
        raise SchemaError(f"{f.where}: default null on a non-nullable field")
    return ""


# ---- decode ----

def read_scalar(e, r):
    if e in INT_TYPES:
        return f"{r}.Read{e.capitalize()}()"
    return {"bool": f"{r}.ReadBool()", "uuid": f"{r}.ReadUuid()"}[e]


def decode_value(f, target, r, nullable_cond):
    """Lines that decode field f into lvalue `target` from reader `r`."""
    e = f.elem
    if f.is_array:
        if e in PRIMITIVES:
            if e in ("string",):
                item = [f"vec.push_back({r}.ReadString(flexible));"]
            else:
                item = [f"vec.push_back({read_scalar(e, r)});"]
        else:
            item = ["vec.emplace_back();", f"vec.back().Decode({r}, version);"]
        null_branch = (f"{target} = std::nullopt;" if is_optional(f) else None)
        lines = ["{", f"  const int32_t count = {r}.ReadArrayLength(flexible);", "  if (count < 0) {"]
        if null_branch and nullable_cond != "false":
            c = nullable_cond or "true"
            lines += [f"    if ({c}) {{", f"      {null_branch}", "    } else {",
                      f"      {r}.Fail(\"null array where the schema does not allow null\");", "    }"]
        else:
            lines += [f"    {r}.Fail(\"null array where the schema does not allow null\");"]
        lines += ["  } else {"]
        lines += [f"    auto& vec = {target + '.emplace()' if is_optional(f) else target};",
                  "    vec.clear();",
                  "    vec.reserve(std::min<int32_t>(count, kMaxReserveElements));",
                  f"    for (int32_t i = 0; i < count && {r}.ok(); ++i) {{"]
        lines += ["      " + x for x in item]
        lines += ["    }", "  }", "}"]
        return lines
    if f.is_struct:
        return [f"{target}.Decode({r}, version);"]
    if e in ("string", "bytes", "records"):
        kind = {"string": "String", "bytes": "Bytes", "records": "Records"}[e]
        if is_optional(f):
            if nullable_cond == "false":
                return [f"{target} = {r}.Read{kind}(flexible);"]
            if not nullable_cond:
                return [f"{target} = {r}.ReadNullable{kind}(flexible);"]
            return [f"if ({nullable_cond}) {{",
                    f"  {target} = {r}.ReadNullable{kind}(flexible);",
                    "} else {", f"  {target} = {r}.Read{kind}(flexible);", "}"]
        return [f"{target} = {r}.Read{kind}(flexible);"]
    return [f"{target} = {read_scalar(e, r)};"]


def nullable_cond(f):
    if f.nullable is None:
        return "false"
    return cond(f.nullable)


def gen_decode(owner, fields, flexible_from):
    out = [f"void {owner}::Decode(Reader& r, [[maybe_unused]] int16_t version) {{"]
    out.append(f"  [[maybe_unused]] const bool flexible = {flex_expr(flexible_from)};")
    for f in fields:
        if f.tag is not None:
            continue
        body = [f'r.Field("{f.name}");'] + decode_value(f, f.cname, "r", nullable_cond(f))
        out += wrap_if(cond(f.versions), body, 2)
    tagged = sorted((f for f in fields if f.tag is not None), key=lambda f: f.tag)
    if flexible_from != NO_FLEXIBLE:
        if not tagged:
            out += ["  if (flexible) r.SkipTaggedFields();"]
        else:
            out += ["  if (flexible) {",
                    "    const uint32_t tag_count = r.ReadUnsignedVarint();",
                    "    for (uint32_t t = 0; t < tag_count && r.ok(); ++t) {",
                    "      const uint32_t tag = r.ReadUnsignedVarint();",
                    "      const uint32_t size = r.ReadUnsignedVarint();",
                    "      Reader sub(r.ReadRaw(size));",
                    "      if (!r.ok()) break;",
                    "      switch (tag) {"]
            for f in tagged:
                body = [f'sub.Field("{f.name}");'] + decode_value(f, f.cname, "sub", nullable_cond(f))
                body += ["r.Absorb(sub);"]
                out += [f"        case {f.tag}:"] + wrap_if(cond(f.versions), body, 10) + ["          break;"]
            out += ["        default:", "          break;  // unknown tags are skipped",
                    "      }", "    }", "  }"]
    out.append("}")
    return out


def flex_expr(flexible_from):
    if flexible_from == NO_FLEXIBLE:
        return "false"
    if flexible_from == 0:
        return "true"
    return f"version >= {flexible_from}"


# ---- encode ----

def write_scalar(e, w, v):
    if e in INT_TYPES:
        return f"{w}.Write{e.capitalize()}({v});"
    return {"bool": f"{w}.WriteBool({v});", "uuid": f"{w}.WriteUuid({v});"}[e]


def encode_value(f, owner, w):
    e = f.elem
    src = f.cname
    ncond = nullable_cond(f)
    lines = []
    if is_optional(f):
        if ncond != "false" and ncond:
            lines.append(f"CHRONIK_CHECK({src}.has_value() || ({ncond})) << \"{owner}.{f.name} is null in a version that does not allow null\";")
        elif ncond == "false":
            lines.append(f"CHRONIK_CHECK({src}.has_value()) << \"{owner}.{f.name} is null in a version that does not allow null\";")
    if f.is_array:
        if e in PRIMITIVES:
            if e == "string":
                item = f"{w}.WriteString(item, flexible);"
            else:
                item = write_scalar(e, w, "item")
        else:
            item = f"item.Encode({w}, version);"
        if is_optional(f):
            lines += [f"if (!{src}.has_value()) {{", f"  {w}.WriteArrayLength(-1, flexible);", "} else {",
                      f"  {w}.WriteArrayLength(static_cast<int64_t>({src}->size()), flexible);",
                      f"  for (const auto& item : *{src}) {item}", "}"]
        else:
            lines += [f"{w}.WriteArrayLength(static_cast<int64_t>({src}.size()), flexible);",
                      f"for (const auto& item : {src}) {item}"]
        return lines
    if f.is_struct:
        return lines + [f"{src}.Encode({w}, version);"]
    if e in ("string", "bytes", "records"):
        kind = {"string": "String", "bytes": "Bytes", "records": "Records"}[e]
        if is_optional(f):
            return lines + [f"{w}.WriteNullable{kind}({src}, flexible);"]
        return lines + [f"{w}.Write{kind}({src}, flexible);"]
    return lines + [write_scalar(e, w, src)]


def gen_encode(owner, short, fields, flexible_from):
    out = [f"void {owner}::Encode(Writer& w, [[maybe_unused]] int16_t version) const {{"]
    out.append(f"  [[maybe_unused]] const bool flexible = {flex_expr(flexible_from)};")
    for f in fields:
        if f.tag is not None:
            continue
        out += wrap_if(cond(f.versions), encode_value(f, short, "w"), 2)
    tagged = sorted((f for f in fields if f.tag is not None), key=lambda f: f.tag)
    if flexible_from != NO_FLEXIBLE:
        if not tagged:
            out += ["  if (flexible) w.WriteUnsignedVarint(0);"]
        else:
            out += ["  if (flexible) {", f"    const {short} defaults;", "    uint32_t tag_count = 0;"]
            for f in tagged:
                c = cond(f.versions)
                c = f"({c}) && " if c else ""
                out.append(f"    const bool write_{f.cname} = {c}!({f.cname} == defaults.{f.cname});")
                out.append(f"    tag_count += write_{f.cname} ? 1 : 0;")
            out.append("    w.WriteUnsignedVarint(tag_count);")
            for f in tagged:
                out += [f"    if (write_{f.cname}) {{", "      Writer sub;"]
                out += ["      " + x for x in encode_value(f, short, "sub")]
                out += [f"      w.WriteUnsignedVarint({f.tag});",
                        "      w.WriteUnsignedVarint(static_cast<uint32_t>(sub.size()));",
                        "      w.WriteRaw(sub.buffer());", "    }"]
            out += ["  }"]
    out.append("}")
    return out


# ---- fill (tests) ----

def fill_scalar(e):
    if e in INT_TYPES:
        return f"static_cast<{INT_TYPES[e]}>(rng.Next())"
    if e == "bool":
        return "rng.Below(2) == 1"
    if e == "uuid":
        return "rng.MakeUuid()"
    if e == "string":
        return "rng.String(6)"
    return "rng.String(12)"


def gen_fill(owner, fields):
    out = [f"void {owner}::FillForTest(TestRng& rng, [[maybe_unused]] int16_t version) {{"]
    for f in fields:
        e = f.elem
        ncond = nullable_cond(f)
        can_null = is_optional(f) and ncond != "false"
        body = []
        if f.is_array:
            if e in PRIMITIVES:
                item = f"vec.push_back({fill_scalar(e)});"
            else:
                item = "vec.emplace_back(); vec.back().FillForTest(rng, version);"
            target = f"{f.cname}.emplace()" if is_optional(f) else f.cname
            body = ["{", f"  auto& vec = {target};", "  vec.clear();",
                    "  const uint64_t count = rng.Below(3);",
                    f"  for (uint64_t i = 0; i < count; ++i) {{ {item} }}", "}"]
        elif f.is_struct:
            body = [f"{f.cname}.FillForTest(rng, version);"]
        else:
            body = [f"{f.cname} = {fill_scalar(e)};"]
        if can_null:
            c = f"({ncond}) && " if ncond else ""
            body = [f"if ({c}rng.Below(4) == 0) {{", f"  {f.cname} = std::nullopt;", "} else {"] + \
                   ["  " + x for x in body] + ["}"]
        out += wrap_if(cond(f.versions), body, 2)
    out.append("}")
    return out


# ---- structs ----

def collect_structs(fields, acc):
    """Struct fields in definition order (children before parents)."""
    for f in fields:
        if f.is_struct:
            collect_structs(f.children, acc)
            acc.append(f)
    return acc


def struct_members(fields, indent):
    pad = " " * indent
    out = []
    ordered = [f for f in fields if not f.member_last] + \
        [f for f in fields if f.member_last]
    for f in ordered:
        out.append(f"{pad}{cpp_type(f)} {f.cname}{default_init(f)};")
    return out


def struct_methods(name, indent):
    pad = " " * indent
    return [f"{pad}bool operator==(const {name}&) const = default;",
            f"{pad}// Sticky-error decode from `r` (check r.ok()); encode appends to `w`.",
            f"{pad}void Decode(Reader& r, int16_t version);",
            f"{pad}void Encode(Writer& w, int16_t version) const;",
            f"{pad}// Sets every field present in `version` to arbitrary values (tests).",
            f"{pad}void FillForTest(TestRng& rng, int16_t version);"]


def gen_message(msg, hdr, src):
    structs = collect_structs(msg.fields, [])
    seen = {}
    for s in structs:
        if s.elem in seen:
            raise SchemaError(f"{s.where}: struct {s.elem} defined twice in {msg.name}")
        seen[s.elem] = s
    lo, hi = msg.versions
    hdr.append(f"struct {msg.name} {{")
    hdr.append(f"  static constexpr int16_t kApiKey = {msg.key};")
    hdr.append(f"  static constexpr int16_t kMinVersion = {lo};")
    hdr.append(f"  static constexpr int16_t kMaxVersion = {hi};")
    hdr.append(f"  static constexpr int16_t kFirstFlexibleVersion = {msg.flexible};")
    hdr.append(f"  static constexpr bool kIsRequest = {'true' if msg.kind == 'request' else 'false'};")
    hdr.append(f"  static constexpr const char* kName = \"{msg.name}\";")
    hdr.append("")
    for s in structs:
        hdr.append(f"  struct {s.elem} {{")
        hdr += struct_members(s.children, 4)
        hdr += struct_methods(s.elem, 4)
        hdr.append("  };")
        hdr.append("")
        owner = f"{msg.name}::{s.elem}"
        src += gen_decode(owner, s.children, msg.flexible) + [""]
        src += gen_encode(owner, s.elem, s.children, msg.flexible) + [""]
        src += gen_fill(owner, s.children) + [""]
    hdr += struct_members(msg.fields, 2)
    hdr.append("")
    hdr += struct_methods(msg.name, 2)
    hdr.append("  // Decodes a whole body of `version`: fails on unsupported versions, malformed")
    hdr.append("  // or truncated input, naming the message and field, and on trailing bytes")
    hdr.append("  // after a response (a request's are ignored, as Kafka's parser does).")
    hdr.append("  // With `owner` (holding `body`), record batches are slices of it.")
    hdr.append("  absl::Status Decode(absl::string_view body, int16_t version,")
    hdr.append("                      std::shared_ptr<const void> owner = nullptr);")
    hdr.append("  std::string Encode(int16_t version) const;")
    hdr.append("};")
    hdr.append("")
    src += gen_decode(msg.name, msg.fields, msg.flexible) + [""]
    src += gen_encode(msg.name, msg.name, msg.fields, msg.flexible) + [""]
    src += gen_fill(msg.name, msg.fields) + [""]
    src += [f"absl::Status {msg.name}::Decode(absl::string_view body, int16_t version,",
            "                      std::shared_ptr<const void> owner) {",
            f"  return DecodeWhole(*this, body, version, std::move(owner));", "}", "",
            f"std::string {msg.name}::Encode(int16_t version) const {{",
            "  CHRONIK_CHECK(version >= kMinVersion && version <= kMaxVersion) << kName << \" v\" << version;",
            "  Writer w;", "  Encode(w, version);", "  return w.Release();", "}", ""]


HEADER_PROLOGUE = """// GENERATED by broker/kafka/gen_messages.py from broker/kafka/messages.schema.
// Do not edit: change the schema or the generator.
//
// One struct per Kafka request/response body with per-version Decode/Encode.
// Fields absent from a version keep their default and are not written. Values
// are owned copies (decoded messages do not point into the input buffer),
// except record batches (`records`, SharedBytes) decoded with an owner of the
// input: those share it.
// Encode CHECKs that nullable-typed fields are non-null in versions where the
// schema forbids null (a caller bug). Thread-safety: plain values.
#ifndef CHRONIK_BROKER_KAFKA_MESSAGES_H_
#define CHRONIK_BROKER_KAFKA_MESSAGES_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "broker/kafka/wire.h"

namespace chronik::kafka {

// Upper bound on elements reserved up front when decoding an array (the rest
// grow as elements are actually read), so a large count costs no memory until
// the bytes behind it exist.
inline constexpr int32_t kMaxReserveElements = 1024;

"""

SOURCE_PROLOGUE = """// GENERATED by broker/kafka/gen_messages.py from broker/kafka/messages.schema.
#include "broker/kafka/messages.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace chronik::kafka {
namespace {

template <typename M>
absl::Status DecodeWhole(M& message, absl::string_view body, int16_t version,
                         std::shared_ptr<const void> owner) {
  if (version < M::kMinVersion || version > M::kMaxVersion) {
    return absl::UnimplementedError(absl::StrCat(
        M::kName, ": unsupported version ", version, " (supported ",
        M::kMinVersion, "-", M::kMaxVersion, ")"));
  }
  Reader r(body, std::move(owner));
  message.Decode(r, version);
  if (!r.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(M::kName, " v", version, ": ", r.status().message()));
  }
  // Kafka's broker ignores bytes after a request's last field, and clients
  // send some (librdkafka 2.0.2: ListGroups v4 with a doubled tag byte,
  // OffsetFetch v7 asking for all partitions); a response must be exact.
  if (!M::kIsRequest && !r.at_end()) {
    return absl::InvalidArgumentError(
        absl::StrCat(M::kName, " v", version, ": ", r.remaining(),
                     " trailing bytes after the body"));
  }
  return absl::OkStatus();
}

}  // namespace

"""


def gen_tables(messages, hdr, src):
    reqs = [m for m in messages if m.kind == "request"]
    resps = {m.key: m for m in messages if m.kind == "response"}
    for m in reqs:
        r = resps.get(m.key)
        if r is None or r.versions != m.versions or r.flexible != m.flexible:
            raise SchemaError(f"{m.name}: response missing or versions differ")
    reqs.sort(key=lambda m: m.key)
    hdr.append("// Every API this codec knows, by key (ascending).")
    hdr.append("struct ApiInfo {")
    hdr.append("  int16_t key;")
    hdr.append("  const char* name;")
    hdr.append("  int16_t min_version;")
    hdr.append("  int16_t max_version;")
    hdr.append("  int16_t first_flexible_version;  // 0x7fff: none")
    hdr.append("};")
    hdr.append(f"inline constexpr int kApiCount = {len(reqs)};")
    hdr.append("extern const ApiInfo kApis[kApiCount];")
    hdr.append("// The entry for `key`, or nullptr if the codec does not know it.")
    hdr.append("const ApiInfo* FindApi(int16_t key);")
    hdr.append("")
    hdr.append("using AnyRequest = std::variant<" + ", ".join(m.name for m in reqs) + ">;")
    hdr.append("using AnyResponse = std::variant<" + ", ".join(resps[m.key].name for m in reqs) + ">;")
    hdr.append("// Decodes the body of request `key` at `version` into the matching struct.")
    hdr.append("// With `owner` (holding `body`), record batches are slices of it.")
    hdr.append("absl::StatusOr<AnyRequest> DecodeAnyRequest(int16_t key, int16_t version, absl::string_view body,")
    hdr.append("                                            std::shared_ptr<const void> owner = nullptr);")
    hdr.append("absl::StatusOr<AnyResponse> DecodeAnyResponse(int16_t key, int16_t version, absl::string_view body,")
    hdr.append("                                              std::shared_ptr<const void> owner = nullptr);")
    hdr.append("")
    src.append("const ApiInfo kApis[kApiCount] = {")
    for m in reqs:
        src.append(f"    {{{m.key}, \"{m.name[:-len('Request')]}\", {m.versions[0]}, {m.versions[1]}, {m.flexible}}},")
    src.append("};")
    src.append("")
    src.append("const ApiInfo* FindApi(int16_t key) {")
    src.append("  for (const ApiInfo& api : kApis) {")
    src.append("    if (api.key == key) return &api;")
    src.append("  }")
    src.append("  return nullptr;")
    src.append("}")
    src.append("")
    for kind, variant, names in (("Request", "AnyRequest", {m.key: m.name for m in reqs}),
                                 ("Response", "AnyResponse", {m.key: resps[m.key].name for m in reqs})):
        src.append(f"absl::StatusOr<{variant}> DecodeAny{kind}(int16_t key, int16_t version, absl::string_view body,")
        src.append("                                  std::shared_ptr<const void> owner) {")
        src.append("  switch (key) {")
        for key in sorted(names):
            n = names[key]
            src += [f"    case {key}: {{", f"      {n} m;",
                    "      absl::Status s = m.Decode(body, version, owner);",
                    "      if (!s.ok()) return s;",
                    f"      return {variant}(std::move(m));", "    }"]
        src.append("    default:")
        src.append(f"      return absl::UnimplementedError(absl::StrCat(\"unknown API key \", key));")
        src.append("  }")
        src.append("}")
        src.append("")


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: gen_messages.py SCHEMA OUT_H OUT_CC")
    with open(sys.argv[1]) as f:
        try:
            messages = parse(f.read())
        except SchemaError as e:
            sys.exit(f"{sys.argv[1]}: {e}")
    hdr = [HEADER_PROLOGUE]
    src = [SOURCE_PROLOGUE]
    try:
        for msg in messages:
            gen_message(msg, hdr, src)
        gen_tables(messages, hdr, src)
    except SchemaError as e:
        sys.exit(f"{sys.argv[1]}: {e}")
    hdr.append("}  // namespace chronik::kafka\n\n#endif  // CHRONIK_BROKER_KAFKA_MESSAGES_H_\n")
    src.append("}  // namespace chronik::kafka\n")
    with open(sys.argv[2], "w") as f:
        f.write("\n".join(hdr))
    with open(sys.argv[3], "w") as f:
        f.write("\n".join(src))


if __name__ == "__main__":
    main()
