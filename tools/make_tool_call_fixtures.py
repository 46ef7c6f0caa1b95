#!/usr/bin/env python3
"""Write tests/data/fixtures/tool_call_cases.json: glm45 tool-call model outputs
with the expected parse.

The expected arguments are Python values serialised by Python's own
json.dumps(ensure_ascii=False), so the C++ serialiser is checked against it.
Run from the repository root: python tools/make_tool_call_fixtures.py
"""
import json
from pathlib import Path

tools = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Get the current weather for a location",
        "parameters": {"type": "object", "properties": {
            "location": {"type": "string", "description": "The city name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["location"]}}},
    {"type": "function", "function": {
        "name": "write_file", "description": "Write text to a file",
        "parameters": {"type": "object", "properties": {
            "path": {"type": "string"}, "content": {"type": "string"}},
            "required": ["path", "content"]}}},
    {"type": "function", "function": {
        "name": "calculate", "description": "Evaluate an expression",
        "parameters": {"type": "object", "properties": {
            "expression": {"type": "string"}, "precision": {"type": "integer"}}}}},
    {"type": "function", "function": {
        "name": "search", "description": "Search documents",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string"}, "limit": {"type": "integer"},
            "filters": {"type": "object"}, "tags": {"type": "array", "items": {"type": "string"}},
            "exact": {"type": "boolean"}, "threshold": {"type": "number"}}}}},
    {"type": "function", "function": {"name": "get_time", "description": "Current time"}},
    {"type": "function", "function": {
        "name": "set_option", "description": "Set an option",
        "parameters": {"type": "object", "properties": {
            "value": {"type": ["integer", "string"]},
            "flag": {"anyOf": [{"type": "boolean"}, {"type": "null"}]},
            "note": {"description": "anything"}}}}},
]

def call(name, **arguments):
    return {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}

def call_args(name, arguments):
    return {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}

def tc(name, *pairs, sep="\n"):
    body = "".join(f"<arg_key>{k}</arg_key>{sep}<arg_value>{v}</arg_value>{sep}" for k, v in pairs)
    return f"<tool_call>{name}{sep}{body}</tool_call>"

W = lambda loc: tc("get_weather", ("location", loc))
T = "<tool_call>get_time\n</tool_call>"

cases = []
def case(name, output, content, calls):
    cases.append({"name": name, "output": output, "content": content, "calls": calls})

case("plain_text", "Hello, world! 你好。", "Hello, world! 你好。", [])
case("plain_text_trailing_newline", "Hello\n\n", "Hello\n\n", [])
case("empty_output", "", "", [])
case("single_call_two_arguments",
     tc("get_weather", ("location", "Beijing"), ("unit", "celsius")), "",
     [call("get_weather", location="Beijing", unit="celsius")])
case("text_before_call", "Let me check.\n" + W("Paris"), "Let me check.", [call("get_weather", location="Paris")])
case("text_after_call", T + "\nDone.", "Done.", [call("get_time")])
case("text_between_calls", T + "\nand then\n" + T, "and then", [call("get_time"), call("get_time")])
case("two_calls_newline_separated", W("Beijing") + "\n" + W("Shanghai"), "",
     [call("get_weather", location="Beijing"), call("get_weather", location="Shanghai")])
case("two_calls_adjacent", W("Beijing") + W("Shanghai"), "",
     [call("get_weather", location="Beijing"), call("get_weather", location="Shanghai")])
case("three_calls_in_order",
     W("Oslo") + "\n" + T + "\n" + tc("calculate", ("expression", "2+2"), ("precision", "0")), "",
     [call("get_weather", location="Oslo"), call("get_time"),
      call("calculate", expression="2+2", precision=0)])
case("zero_argument_call", T, "", [call("get_time")])
case("zero_argument_call_without_newline", "<tool_call>get_time</tool_call>", "", [call("get_time")])
case("cjk_value", W("北京市朝阳区"), "", [call("get_weather", location="北京市朝阳区")])
case("emoji_and_accents", W("Zürich 🌧️ ok"), "", [call("get_weather", location="Zürich 🌧️ ok")])
code = "def double(x):\n    return x * 2\n\nprint(double(21))\n"
case("code_with_newlines", tc("write_file", ("path", "a.py"), ("content", code)), "",
     [call("write_file", path="a.py", content=code)])
tricky = 'He said "hi" \\ C:\\path\\n end'
case("quotes_and_backslashes", tc("write_file", ("path", "q.txt"), ("content", tricky)), "",
     [call("write_file", path="q.txt", content=tricky)])
controls = "a\tb\rc\x01d\x7fe\x0c"
case("control_characters", tc("write_file", ("path", "c"), ("content", controls)), "",
     [call("write_file", path="c", content=controls)])
case("empty_string_value", W(""), "", [call("get_weather", location="")])
case("value_whitespace_kept", W("  Paris \n"), "", [call("get_weather", location="  Paris \n")])
case("number_in_string_property", tc("calculate", ("expression", "42")), "",
     [call("calculate", expression="42")])
case("json_in_string_property", tc("calculate", ("expression", '{"a":1, "b": [true]}')), "",
     [call("calculate", expression='{"a":1, "b": [true]}')])
case("literals_in_string_property",
     tc("write_file", ("path", "null"), ("content", "true")), "",
     [call("write_file", path="null", content="true")])
case("quoted_text_in_string_property", W('"Paris"'), "", [call("get_weather", location='"Paris"')])
case("integer_property", tc("calculate", ("expression", "1/3"), ("precision", "3")), "",
     [call("calculate", expression="1/3", precision=3)])
case("integer_property_not_a_number", tc("calculate", ("precision", "three")), "",
     [call("calculate", precision="three")])
case("number_property_forms",
     tc("search", ("threshold", "0.5")) + tc("search", ("threshold", "1e-5")) +
     tc("search", ("threshold", "1E3")) + tc("search", ("threshold", "100")) +
     tc("search", ("threshold", "1e16")) + tc("search", ("threshold", "0.0001")), "",
     [call("search", threshold=0.5), call("search", threshold=1e-05), call("search", threshold=1000.0),
      call("search", threshold=100), call("search", threshold=1e16), call("search", threshold=0.0001)])
case("boolean_property", tc("search", ("query", "x"), ("exact", "true")), "",
     [call("search", query="x", exact=True)])
case("nested_object_property",
     tc("search", ("filters", '{"lang":"en","range":{"from":1,"to":[1,2.50]},"ok":null}')), "",
     [call_args("search", {"filters": {"lang": "en", "range": {"from": 1, "to": [1, 2.5]}, "ok": None}})])
case("array_property", tc("search", ("tags", '[ "a" ,"b",\n "中文" ]'), ("limit", "10")), "",
     [call("search", tags=["a", "b", "中文"], limit=10)])
case("object_property_invalid_json", tc("search", ("filters", "{lang: en}")), "",
     [call("search", filters="{lang: en}")])
case("type_list_integer_or_string",
     tc("set_option", ("value", "12")) + tc("set_option", ("value", "abc")) +
     tc("set_option", ("value", "true")), "",
     [call("set_option", value=12), call("set_option", value="abc"), call("set_option", value="true")])
case("any_of_boolean_or_null",
     tc("set_option", ("flag", "null"), ("value", "x")) + tc("set_option", ("flag", "yes")), "",
     [call_args("set_option", {"flag": None, "value": "x"}), call("set_option", flag="yes")])
case("untyped_property",
     tc("set_option", ("note", "[1, 2]")) + tc("set_option", ("note", "hello")) +
     tc("set_option", ("note", "3.0")) + tc("set_option", ("note", "-0")), "",
     [call("set_option", note=[1, 2]), call("set_option", note="hello"),
      call("set_option", note=3.0), call("set_option", note=0)])
case("unknown_key", tc("get_weather", ("location", "Lyon"), ("country", "FR"), ("days", "5")), "",
     [call("get_weather", location="Lyon", country="FR", days=5)])
case("keys_are_stripped", tc("get_weather", (" location\n", "Nice")), "",
     [call("get_weather", location="Nice")])
case("repeated_key_first_wins", tc("get_weather", ("location", "A"), ("location", "B"), ("unit", "celsius")), "",
     [call("get_weather", location="A", unit="celsius")])
unknown = tc("delete_everything", ("path", "/"))
case("unknown_tool_is_content", "Okay.\n" + unknown, "Okay.\n" + unknown, [])
case("unknown_tool_with_known_prefix", tc("get_weather_forecast", ("location", "Rome")),
     tc("get_weather_forecast", ("location", "Rome")), [])
case("unknown_then_known", unknown + "\n" + T, unknown, [call("get_time")])
case("known_then_unknown", T + "\n" + unknown + "\n", unknown + "\n", [call("get_time")])
case("empty_tool_name", "<tool_call>\nget_time</tool_call>", "<tool_call>\nget_time</tool_call>", [])
case("start_tag_inside_unknown_name", "<tool_call>get_time<tool_call>get_time\n</tool_call>",
     "<tool_call>get_time", [call("get_time")])
case("tag_mentioned_in_prose", "I will use <tool_call> now.\n" + T, "I will use <tool_call> now.", [call("get_time")])
case("name_with_spaces", "<tool_call> get_time \n</tool_call>", "", [call("get_time")])
case("crlf_after_name", "<tool_call>get_time\r\n</tool_call>", "", [call("get_time")])
case("literal_backslash_n_separators", tc("get_weather", ("location", "Oslo"), sep="\\n"), "",
     [call("get_weather", location="Oslo")])
case("whitespace_around_calls_dropped", "\n\n" + T + "\n\n  " + T + "\n \n", "", [call("get_time"), call("get_time")])
case("stray_end_tag_in_text", "a </tool_call> b", "a </tool_call> b", [])
case("angle_brackets_in_text", "if a < b and c <tool> d <tool_cal e <", "if a < b and c <tool> d <tool_cal e <", [])
case("repeated_angle_before_tag", "x <<tool_call>get_time\n</tool_call>", "x <", [call("get_time")])
markup = "<tool_call>x</tool_call> and <arg_key>k</arg_key> </arg_valu"
case("markup_inside_string_value", tc("write_file", ("path", "m"), ("content", markup)), "",
     [call("write_file", path="m", content=markup)])
case("junk_between_elements",
     "<tool_call>get_weather\nblah<arg_key>location</arg_key> junk <arg_value>Kyiv</arg_value>zzz\n</tool_call>", "",
     [call("get_weather", location="Kyiv")])
case("key_without_value", "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>Rome</arg_value>\n<arg_key>unit</arg_key>\n</tool_call>", "",
     [call("get_weather", location="Rome")])
case("value_without_key", "<tool_call>get_weather\n<arg_value>x</arg_value>\n</tool_call>", "", [call("get_weather")])
case("missing_arg_key_end", "<tool_call>get_weather\n<arg_key>location<arg_value>Paris</arg_value>\n</tool_call>ok", "ok",
     [call("get_weather")])
case("missing_arg_value_end",
     "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>Paris\n</tool_call>\nThanks", "",
     [call("get_weather", location="Paris\n</tool_call>\nThanks")])
case("name_ends_at_arg_key", "<tool_call>get_weather<arg_key>location</arg_key><arg_value>Bonn</arg_value></tool_call>", "",
     [call("get_weather", location="Bonn")])
case("unfinished_string_value",
     "<tool_call>write_file\n<arg_key>path</arg_key>\n<arg_value>a.txt</arg_value>\n<arg_key>content</arg_key>\n<arg_value>Hello wor", "",
     [call("write_file", path="a.txt", content="Hello wor")])
case("unfinished_partial_value_end_tag", "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>Hello</arg_va", "",
     [call("get_weather", location="Hello</arg_va")])
case("unfinished_inside_key", "<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>Rome</arg_value>\n<arg_key>un", "",
     [call("get_weather", location="Rome")])
case("unfinished_number_value", "<tool_call>calculate\n<arg_key>precision</arg_key>\n<arg_value>12", "",
     [call("calculate", precision=12)])
case("unfinished_object_value", "<tool_call>search\n<arg_key>filters</arg_key>\n<arg_value>{\"a\": [1,", "",
     [call("search", filters='{"a": [1,')])
case("unfinished_after_name", "Checking.\n<tool_call>get_time\n", "Checking.", [call("get_time")])
case("unfinished_name", "Sure.\n<tool_call>get_wea", "Sure.\n<tool_call>get_wea", [])
case("unfinished_start_tag", "Sure.\n<tool_c", "Sure.\n<tool_c", [])
case("unfinished_second_call", W("Rome") + "\n<tool_call>get_weather\n<arg_key>location</arg_key>\n<arg_value>Mil", "",
     [call("get_weather", location="Rome"), call("get_weather", location="Mil")])

fixture = {
    "description": "Model outputs in the glm45 tool-call format with the expected non-streaming parse "
                   "(content and calls); a streaming parse over any split of output must give the same. "
                   "Expected arguments are Python json.dumps(ensure_ascii=False) output.",
    "tools": tools,
    "cases": cases,
}
with open(Path(__file__).resolve().parent.parent / "tests/data/fixtures/tool_call_cases.json", "w", encoding="utf-8") as f:
    json.dump(fixture, f, ensure_ascii=False, indent=1)
    f.write("\n")
print(len(cases), "cases")
