#!/usr/bin/env python3
"""Write the chat-template fixtures that tests/chat compares the C++ Jinja engine against.

Every expected output comes from transformers' own renderer (transformers.utils.chat_template_utils:
the ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loopcontrols, its tojson,
raise_exception and strftime_now), not from a re-implementation. Run it by hand after changing a
case or upgrading transformers or jinja2:

    python3 tools/make_template_fixtures.py

It writes, under tests/data/fixtures/:
  chat_template_cases.jsonl  conversations through tests/data/tiny-glyph/chat_template.jinja and
                             through the chat_template_*.jinja templates of this folder
  jinja_snippets.jsonl       small template + context cases, one per engine feature

Each line contains the template (chat cases name a file under tests/data in "template_file") and
the context passed to render(). It then has either "output", or "error" set to "parse" (raised
while compiling) or "render" (raised while rendering). "error_class" and "error_message" keep the
Python exception for reference, because the C++ tests compare errors by phase only.
"""

import json
import pathlib
import sys

import jinja2
import transformers
from transformers.utils.chat_template_utils import _compile_jinja_template, render_jinja_template

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "data" / "fixtures"
GLYPH_TEMPLATE = ROOT / "tests" / "data" / "tiny-glyph" / "chat_template.jinja"


# ---- Snippets: one feature each ----

SNIPPETS = []


def snippet(case_name, template, **context):
    SNIPPETS.append((case_name, template, context))


# Whitespace control: trim_blocks, lstrip_blocks, "-" and "+" markers, comments, raw.
snippet("ws_trim_blocks", "{% if true %}\nyes\n{% endif %}\nend")
snippet("ws_lstrip_blocks", "  {% if true %}\n  x\n  {% endif %}\n")
snippet("ws_minus_both_sides", "a  {%- if true -%}  b  {%- endif -%}  c")
snippet("ws_expression_minus", "a \n {{- 'x' -}} \n b")
snippet("ws_plus_keeps_lstrip", "  {%+ if true %}x{% endif %}")
snippet("ws_plus_keeps_newline", "{% if true +%}\nx{% endif %}")
snippet("ws_variable_not_lstripped", "  {{ 'x' }}\n  y")
snippet("ws_comment", "a {# comment #} b\n  {# own line #}\nc")
snippet("ws_comment_minus", "a {#- c -#} b")
snippet("ws_comment_plus", "a\n  {#+ c +#}\nb")
snippet("ws_raw", "{% raw %}{{ not parsed }}{% if %}{% endraw %}")
snippet("ws_raw_strip", "a {%- raw -%} {{ x }} {%- endraw -%} b")
snippet("ws_raw_newline_kept", "{% raw %}\nx\n{% endraw %}\ny")
snippet("ws_trailing_newline_dropped", "abc\n")
snippet("ws_two_trailing_newlines", "abc\n\n")
snippet("ws_crlf", "a\r\nb{% if true %}\r\nc{% endif %}\r\n")
snippet("ws_lstrip_tab", "\t{% for i in [1, 2] %}\n\t{{ i }}\n\t{% endfor %}\n")
snippet("ws_no_lstrip_after_text", "x {% if true %}y{% endif %}")
snippet("ws_set_line", "{% set x = 1 %}\n{{ x }}")
snippet("ws_minus_newlines", "a\n\n   {%- set x = 1 -%}\n\n   b")
snippet("ws_variable_keeps_newline", "{{ 'a' }}\nb")
snippet("ws_nested_loops", "{% for i in [1, 2] %}\n  {% for j in 'ab' %}\n    {{ i }}{{ j }}\n  {% endfor %}\n{% endfor %}\n")
snippet("ws_lstrip_unicode_space", "\u3000{% if true %}x{% endif %}")
snippet("ws_brace_text", "a { b } {x} c")

# Literals.
snippet("lit_string_escapes", r"{{ 'a\nb\tc\\d\'e\"f\x41\u00e9\U0001F600\101' }}")
snippet("lit_double_quoted", '{{ "it\'s" }}')
snippet("lit_adjacent_strings", "{{ 'ab' 'cd' \"ef\" }}")
snippet("lit_unknown_escape", r"{{ 'a\qb' }}")
snippet("lit_integers", "{{ 42 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 0 }}")
snippet("lit_floats", "{{ 1.5 }} {{ 1e3 }} {{ 2.5E-3 }} {{ 1_0.5 }} {{ 0.0 }}")
snippet("lit_list", "{{ [1, 'a', none, true, [2, 3], {'k': 'v'}] }}")
snippet("lit_tuples", "{{ (1,) }} {{ (1, 2) }} {{ () }} {{ 1, 2 }}")
snippet("lit_dict", "{{ {'a': 1, 'b': [1, 2], 3: 'x', none: true} }}")
snippet("lit_dict_duplicate_key", "{{ {'a': 1, 'b': 2, 'a': 3} }}")
snippet("lit_booleans", "{{ true }} {{ True }} {{ false }} {{ False }} {{ none }} {{ None }}")
snippet("lit_trailing_commas", "{{ [1, 2,] }} {{ {'a': 1,} }}")
snippet("lit_string_repr_quotes", "{{ ['it\\'s', 'say \"hi\"', 'both \\' \"', 'back\\\\slash'] }}")
snippet("lit_string_repr_controls", "{{ ['a\\nb', 'tab\\t', '\\x07', '\\x7f', '\\r'] }}")
snippet("lit_string_repr_unicode", "{{ ['é', '中文', '\\u00a0', '\\u200b', '😀', '\\u2028', '\\ue000'] }}")

# Printing values the way Python's str() does.
snippet("print_floats", "{{ 0.1 }} {{ 1e-05 }} {{ 1e16 }} {{ 1e15 }} {{ 123456789012345678.0 }} {{ -0.0 }} {{ 1.5e300 }} {{ 0.0001 }}")
snippet("print_float_arithmetic", "{{ 0.1 + 0.2 }} {{ 1 / 3 }} {{ 2 / 3 }} {{ 10 / 4 }} {{ 1e308 * 10 }} {{ -1e308 * 10 }}")
snippet("print_float_values", "{{ a }} {{ b }} {{ c }} {{ d }}", a=3.0, b=2.5e-7, c=1e22, d=-12.125)
snippet("print_nan", "{{ (1e308 * 10) - (1e308 * 10) }}")
snippet("print_none_bool", "{{ none }} {{ true }} {{ [none, true, false] }} {{ {'a': none} }}")
snippet("print_nested_context", "{{ data }}", data={"a": [1, 2.5, "x", None, True], "b": {"c": "d"}})
snippet("print_dict_views", "{{ d.items() }} {{ d.keys() }} {{ d.values() }}", d={"a": 1, "b": "x"})
snippet("print_range", "{{ range(3) }} {{ range(1, 10, 2) }} {{ range(3)|list }}")

# Arithmetic with Python semantics.
snippet("math_integers", "{{ 1 + 2 }} {{ 7 - 10 }} {{ 3 * 4 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }}")
snippet("math_power", "{{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2.0 ** 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ 0 ** 0 }}")
snippet("math_floats", "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 7.5 % -2 }} {{ 1 + 1.5 }} {{ 3 * 0.5 }} {{ -7.5 // 2 }}")
snippet("math_precedence", "{{ 2 + 3 * 4 }} {{ (2 + 3) * 4 }} {{ 2 * 3 ** 2 }} {{ 10 - 2 - 3 }} {{ 100 / 10 / 5 }}")
snippet("math_unary", "{{ -x }} {{ +x }} {{ -(-3) }} {{ - 1.5 }} {{ -x|abs }}", x=5)
snippet("math_bool_arithmetic", "{{ true + 1 }} {{ false * 3 }} {{ true / 2 }}")
snippet("math_string_repeat", "{{ 'ab' * 3 }} {{ 3 * 'ab' }} {{ [0] * 3 }} {{ 'x' * 0 }} {{ 'x' * -1 }}")
snippet("math_concat_sequences", "{{ 'ab' + 'cd' }} {{ [1] + [2, 3] }} {{ (1,) + (2,) }}")
snippet("math_tilde", "{{ 'a' ~ 1 ~ none ~ true ~ 1.5 ~ [1] }}")
snippet("math_tilde_undefined", "[{{ 'a' ~ missing ~ 'b' }}]")
snippet("math_tilde_precedence", "{{ 'n=' ~ 1 * 2 }}")
snippet("math_divide_by_zero", "{{ 1 / 0 }}")
snippet("math_floor_divide_by_zero", "{{ 1 // 0 }}")
snippet("math_modulo_by_zero", "{{ 1 % 0 }}")
snippet("math_string_plus_int", "{{ 'a' + 1 }}")
snippet("math_int_plus_string", "{{ 1 + 'a' }}")
snippet("math_tilde_then_plus", "{{ 'a' ~ 1 + 2 }}")
snippet("math_undefined_plus", "{{ missing + 1 }}")
snippet("math_negate_string", "{{ -'a' }}")
snippet("math_list_minus", "{{ [1] - [1] }}")
snippet("math_large_int", "{{ 2 ** 62 }} {{ 9223372036854775807 }} {{ -9223372036854775807 - 1 }}")

# Comparisons, membership, logic.
snippet("cmp_chain", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 3 > 2 >= 2 }} {{ 1 == 1.0 }} {{ 1 != 2 }}")
snippet("cmp_types", "{{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ none == none }} {{ 'a' == 1 }} {{ true == 1 }}")
snippet("cmp_unicode_order", "{{ 'é' > 'z' }} {{ '中' > 'é' }}")
snippet("cmp_dicts", "{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ [1, [2]] == [1, [2]] }} {{ (1, 2) == [1, 2] }}")
snippet("cmp_unorderable", "{{ 1 < 'a' }}")
snippet("cmp_none_less", "{{ none < 1 }}")
snippet("in_operator", "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'a' in {'a': 1} }} {{ 3 not in [1] }} {{ 'x' not in 'abc' }} {{ '' in 'abc' }}")
snippet("in_undefined", "{{ 'a' in missing }} {{ missing in [1] }}")
snippet("in_none_raises", "{{ 'a' in none }}")
snippet("in_string_needs_string", "{{ 1 in 'abc' }}")
snippet("logic_values", "[{{ 0 or 'x' }}] [{{ '' or [] }}] [{{ 1 and 2 }}] [{{ none or 'd' }}] [{{ 0 or '' }}] [{{ 1 and [1] }}] [{{ [] and 1/0 }}]")
snippet("logic_short_circuit", "{{ true or 1/0 }} {{ false and 1/0 }} {{ not 0 }} {{ not 'a' }} {{ not missing }}")
snippet("logic_precedence", "{{ not 1 == 2 }} {{ not true and false }} {{ true or false and false }}")
snippet("cond_expressions", "{{ 'a' if true else 'b' }} {{ 'a' if false else 'b' }} [{{ 'a' if false }}] {{ 1 if 0 else 2 if 0 else 3 }}")
snippet("cond_defined", "{{ x if x is defined else 'dflt' }} {{ y if y is defined else 'dflt' }}", x="set")

# Indexing, slicing, attributes.
snippet("index_negative", "{{ items[-1] }} {{ items[0] }} [{{ items[5] }}] {{ items[-3] }}", items=[1, 2, 3])
snippet("index_string", "{{ 'héllo'[1] }} {{ 'héllo'[-1] }} [{{ 'abc'[10] }}]")
snippet("slice_basic", "{{ 'hello'[1:3] }} {{ 'hello'[::-1] }} {{ s[::2] }} {{ s[-2:] }} {{ s[1:] }} {{ s[:-1] }}", s=[1, 2, 3, 4, 5])
snippet("slice_steps", "{{ s[4:1:-1] }} {{ s[::-2] }} {{ s[10:] }} {{ s[-10:2] }} {{ 'héllo wörld'[2:8] }}", s=[1, 2, 3, 4, 5])
snippet("slice_tuple", "{{ (1, 2, 3)[1:] }} {{ (1, 2, 3)[:1] }}")
snippet("slice_zero_step", "{{ [1, 2][::0] }}")
snippet("attr_dict_key", "{{ d.a }} {{ d['a'] }} [{{ d.missing }}] [{{ d['missing'] }}] {{ d.get('a') }} {{ d.get('zz', 5) }} {{ d.get('zz') }}", d={"a": 1, "items": 5})
snippet("attr_method_before_key", "{{ d['items'] }} {{ d.items() | list }} {{ d.keys() | list }}", d={"a": 1, "items": 5})
snippet("attr_integer", "{{ l.0 }} {{ l.1 }}", l=["x", "y"])
snippet("attr_nested", "{{ m.content }} {{ m['tool_calls'][0].function.name }}", m={"content": "hi", "tool_calls": [{"function": {"name": "f"}}]})
snippet("attr_on_none", "[{{ x.y }}] [{{ x['y'] }}]", x=None)
snippet("attr_on_string", "[{{ 'abc'.foo }}] {{ 'abc'.upper() }}")
snippet("attr_on_undefined_raises", "{{ missing.foo }}")
snippet("item_on_undefined_raises", "{{ missing['foo'] }}")
snippet("attr_chain_raises", "{{ d.missing.deeper }}", d={"a": 1})
snippet("attr_underscore_key", "{{ d._private }} [{{ 'a'.__class__ }}]", d={"_private": 7})
snippet("call_undefined_method_raises", "{{ 'abc'.foo() }}")

# if / elif / else.
snippet("if_chain", "{% for v in [0, 1, 2, 3] %}{% if v == 0 %}zero{% elif v == 1 %}one{% elif v == 2 %}two{% else %}many{% endif %} {% endfor %}")
snippet("if_truthiness", "{% for v in values %}{% if v %}T{% else %}F{% endif %}{% endfor %}", values=[0, 1, "", "a", [], [0], {}, {"a": 1}, None, 0.0, 0.5, False])
snippet("if_tuple_test", "{% if 0, 0 %}tuple is true{% endif %}")
snippet("if_colon", "{% if true: %}ok{% endif %}")
snippet("if_set_leaks", "{% if true %}{% set q = 5 %}{% endif %}{{ q }}")

# for loops.
snippet("for_loop_variables", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}")
snippet("for_previtem_nextitem", "{% for x in [1, 2, 3] %}[{{ loop.previtem }},{{ loop.nextitem }}]{% endfor %}")
snippet("for_cycle", "{% for x in range(5) %}{{ loop.cycle('odd', 'even') }} {% endfor %}")
snippet("for_else", "{% for x in [] %}{{ x }}{% else %}empty{% endfor %}|{% for x in [1] %}{{ x }}{% else %}empty{% endfor %}")
snippet("for_dict_keys", "{% for k in d %}{{ k }};{% endfor %}", d={"b": 1, "a": 2, "c": 3})
snippet("for_dict_items", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}", d={"b": 1, "a": 2})
snippet("for_tuple_unpack", "{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}{% for (a, b), c in [[[1, 2], 3]] %}{{ a }}{{ b }}{{ c }}{% endfor %}")
snippet("for_unpack_mismatch", "{% for a, b in [[1, 2, 3]] %}{% endfor %}")
snippet("for_filter", "{% for x in range(10) if x is odd %}{{ x }}:{{ loop.index }}/{{ loop.length }} {% endfor %}")
snippet("for_filter_else", "{% for x in [1, 2] if x > 5 %}{{ x }}{% else %}none{% endfor %}")
snippet("for_break_continue", "{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}{{ x }}{% endfor %}")
snippet("for_break_nested", "{% for i in range(3) %}{% for j in range(3) %}{% if j == 1 %}{% break %}{% endif %}{{ i }}{{ j }} {% endfor %}{% endfor %}")
snippet("for_undefined_iterates_empty", "[{% for x in missing %}{{ x }}{% endfor %}]")
snippet("for_none_raises", "{% for x in value %}{% endfor %}", value=None)
snippet("for_int_raises", "{% for x in 5 %}{% endfor %}")
snippet("for_var_does_not_leak", "{% set x = 'outer' %}{% for x in [1, 2] %}{{ x }}{% endfor %}{{ x }}")
snippet("for_set_does_not_leak", "{% set y = 1 %}{% for i in range(3) %}[{{ y }}]{% set y = i %}({{ y }}){% endfor %}{{ y }}")
snippet("for_set_per_iteration", "{% for i in range(3) %}{% if i == 0 %}{% set z = 'a' %}{% endif %}[{{ z }}]{% endfor %}")
snippet("for_namespace_counter", "{% set ns = namespace(count=0, names=[]) %}{% for x in [1, 2, 3] %}{% set ns.count = ns.count + x %}{% set ns.names = ns.names + [x] %}{% endfor %}{{ ns.count }} {{ ns.names }}")
snippet("for_nested_loop_variable", "{% for i in 'ab' %}{% for j in 'xy' %}{{ loop.index }}{% endfor %}{{ loop.index }} {% endfor %}")
snippet("for_recursive", "{% for n in tree recursive %}{{ n.name }}{{ loop.depth }}{% if n.children %}({{ loop(n.children) }}){% endif %}{% endfor %}",
        tree=[{"name": "a", "children": [{"name": "b", "children": [{"name": "c"}]}, {"name": "d"}]}, {"name": "e"}])
snippet("for_loop_changed", "{% for x in [1, 1, 2, 2, 1] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}")
snippet("for_string_chars", "{% for c in 'héllo' %}{{ c }}.{% endfor %}")
snippet("for_over_items_filter", "{% for k, v in d|items %}{{ k }}{{ v }}{% endfor %}", d={"x": 1, "y": 2})
snippet("for_over_generator", "{% for x in [3, 1, 2]|sort %}{{ x }}{% endfor %}{% for x in [1, 2]|map('string') %}{{ x }}{{ loop.length }}{% endfor %}")
snippet("for_loop_after_filter_index", "{% for m in messages if m.role != 'system' %}{{ loop.index0 }}:{{ m.role }} {% endfor %}",
        messages=[{"role": "system"}, {"role": "user"}, {"role": "assistant"}])

# set.
snippet("set_simple", "{% set a = 1 %}{% set b = 'x' ~ a %}{{ a }}{{ b }}")
snippet("set_tuple_unpack", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t }}")
snippet("set_block", "{% set body %}Hello {{ name }}!{% endset %}[{{ body }}]", name="W")
snippet("set_block_filter", "{% set body | upper | trim %}  hi {{ name }}  {% endset %}[{{ body }}]", name="x")
snippet("set_namespace_attribute", "{% set ns = namespace(a=1) %}{% set ns.a = ns.a + 1 %}{% set ns.b = 'new' %}{{ ns.a }}{{ ns.b }}")
snippet("set_non_namespace_raises", "{% set d = {} %}{% set d.x = 1 %}", )
snippet("set_overrides_context", "{% set messages = messages[1:] %}{{ messages|length }}", messages=[1, 2, 3])
snippet("namespace_print", "{{ namespace(a=1, b='x') }} [{{ namespace().missing }}]")
snippet("namespace_from_dict", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}")
snippet("with_block", "{% set a = 'outer' %}{% with a = 1, b = a %}{{ a }}{{ b }}{% endwith %}{{ a }}")
snippet("print_statement", "{% print 'a' ~ 'b' %}")

# Macros, call blocks, filter blocks.
snippet("macro_positional_keyword_default", "{% macro m(a, b=2, c='c') %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(1) }} {{ m(1, 3) }} {{ m(1, c='z') }} {{ m(a=9, b=8) }}")
snippet("macro_missing_argument", "{% macro m(a, b) %}[{{ a }}][{{ b }}]{% endmacro %}{{ m(1) }}")
snippet("macro_default_uses_argument", "{% macro m(a, b=a * 2) %}{{ a }}{{ b }}{% endmacro %}{{ m(3) }}")
snippet("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, x=4) }}")
snippet("macro_too_many_arguments", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}")
snippet("macro_unknown_keyword", "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, b=2) }}")
snippet("macro_recursion", "{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% endmacro %}{{ fact(5) }}")
snippet("macro_reads_later_global", "{% macro m() %}{{ z }}{% endmacro %}{% set z = 3 %}{{ m() }}")
snippet("macro_in_loop_closure", "{% for i in range(2) %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}")
snippet("macro_result_is_string", "{% macro m() %}ab{% endmacro %}{{ m() ~ 'c' }} {{ m()|length }} {{ m() is string }}")
snippet("macro_print", "{% macro m(a) %}{% endmacro %}{{ m }} {{ m.name }} {{ m.arguments }}")
snippet("macro_caller", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}")
snippet("macro_caller_with_arguments", "{% macro each(items) %}{% for i in items %}{{ caller(i, loop.index) }}{% endfor %}{% endmacro %}{% call(item, n) each(['x', 'y']) %}{{ n }}={{ item }};{% endcall %}")
snippet("macro_no_caller_raises", "{% macro m() %}{{ caller() }}{% endmacro %}{{ m() }}")
snippet("macro_whitespace", "{%- macro greet(name) -%}\n  Hello {{ name }}!\n{%- endmacro -%}\n[{{ greet('a') }}]")
snippet("filter_block", "{% filter upper %}abc {{ 'def' }}{% endfilter %}|{% filter replace('a', 'b') | trim %}  aaa  {% endfilter %}")
snippet("block_tag", "a{% block content %}B{{ 1 }}{% endblock %}c")
snippet("generation_tag", "{% for m in ['x', 'y'] %}{% generation %}<{{ m }}>{% endgeneration %}{% endfor %}")
snippet("raise_exception", "{% if true %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}")
snippet("raise_exception_unreached", "{% if false %}{{ raise_exception('no') }}{% endif %}ok")
snippet("strftime_now_length", "{{ strftime_now('%Y-%m-%d') | length }}")
snippet("cycler_joiner", "{% set c = cycler('a', 'b') %}{{ c.next() }}{{ c.next() }}{{ c.next() }}{{ c.current }}{% set j = joiner('-') %}{% for x in [1, 2, 3] %}{{ j() }}{{ x }}{% endfor %}")
snippet("dict_global", "{{ dict(a=1, b='x') }} {{ dict([['k', 'v']]) }} {{ dict({'a': 1}, b=2) }}")
snippet("range_forms", "{{ range(3)|list }} {{ range(2, 5)|list }} {{ range(10, 0, -3)|list }} {{ range(0)|list }}")
snippet("range_too_big", "{{ range(200000)|length }}")
snippet("call_star_args", "{% macro m(a, b, c) %}{{ a }}{{ b }}{{ c }}{% endmacro %}{{ m(*[1, 2], **{'c': 3}) }}")

# Filters.
snippet("f_tojson_default", "{{ x | tojson }}", x={"b": 1, "a": ["é", "中", "😀", None, True, 1.5, 1e-05, 10000000000000000.0]})
snippet("f_tojson_ensure_ascii", "{{ x | tojson(ensure_ascii=True) }}", x={"text": "é中😀\u007f\u0085", "n": 0.1})
snippet("f_tojson_controls", "{{ x | tojson }}", x="quote\" back\\ nl\n cr\r tab\t bs\b ff\f nul\u0000 esc\u001b </script>")
snippet("f_tojson_indent", "{{ x | tojson(indent=2) }}", x={"a": [1, {"b": []}, {}], "c": {"d": None}})
snippet("f_tojson_indent_zero_and_string", "{{ x | tojson(indent=0) }}|{{ x | tojson(indent='\\t') }}", x={"a": [1, 2]})
snippet("f_tojson_separators", "{{ x | tojson(separators=(',', ':')) }} {{ x | tojson(indent=1, separators=(', ', ': ')) }}", x={"a": [1, 2], "b": "c"})
snippet("f_tojson_sort_keys", "{{ x | tojson(sort_keys=True) }}", x={"b": 1, "a": {"d": 1, "c": 2}, "A": 0})
snippet("f_tojson_positional", "{{ x | tojson(true, 2) }}", x={"é": [1]})
snippet("f_tojson_scalars", "{{ 1 | tojson }} {{ 1.0 | tojson }} {{ 'x' | tojson }} {{ none | tojson }} {{ false | tojson }} {{ (1, 2) | tojson }} {{ {1: 2, none: 3, true: 4, 1.5: 5} | tojson }}")
snippet("f_tojson_large_numbers", "{{ x | tojson }}", x=[9007199254740993, -9223372036854775808, 1.7976931348623157e308, 5e-324, 123456.789])
snippet("f_tojson_undefined_raises", "{{ missing | tojson }}")
snippet("f_tojson_generator_raises", "{{ [1, 2] | map('string') | tojson }}")
snippet("f_trim", "[{{ '  a b  ' | trim }}] [{{ 'xxaxx' | trim('x') }}] [{{ '\\n\\t a \\u3000' | trim }}]")
snippet("f_case", "{{ 'Hello World' | lower }} {{ 'hello' | upper }} {{ 'hELLO wORLD' | capitalize }} {{ 'hello wORLD-foo(bar) it\\'s' | title }}")
snippet("f_case_unicode", "{{ 'ÉCOLE Straße' | lower }} {{ 'école straße' | upper }} {{ 'élan vital' | title }} {{ 'ÿ' | upper }}")
snippet("f_length_count", "{{ 'héllo' | length }} {{ [1, 2] | count }} {{ {'a': 1} | length }} {{ missing | length }} {{ range(4) | length }}")
snippet("f_length_int_raises", "{{ 5 | length }}")
snippet("f_length_generator_raises", "{{ [1] | map('string') | length }}")
snippet("f_first_last", "{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ 'abc' | first }} {{ 'abc' | last }} {{ {'a': 1, 'b': 2} | first }} [{{ [] | first }}] [{{ [] | last }}]")
snippet("f_join", "{{ [1, 2, 3] | join }} {{ [1, 2, 3] | join(', ') }} {{ users | join('|', attribute='name') }} {{ 'abc' | join('-') }}", users=[{"name": "a"}, {"name": "b"}])
snippet("f_default", "[{{ missing | default('d') }}] [{{ '' | default('d') }}] [{{ '' | default('d', true) }}] [{{ none | d('n') }}] [{{ 0 | d(5, boolean=true) }}] [{{ missing | default }}]")
snippet("f_items", "{{ d | items | list }} {{ missing | items | list }}", d={"a": 1, "b": [2]})
snippet("f_items_not_mapping", "{{ [1] | items | list }}")
snippet("f_list", "{{ 'ab' | list }} {{ {'a': 1} | list }} {{ (1, 2) | list }} {{ missing | list }}")
snippet("f_string", "{{ 1 | string }} {{ none | string }} {{ [1, 'a'] | string }} {{ (1 | string) ~ 2 }}")
snippet("f_int", "{{ '42' | int }} {{ ' -7 ' | int }} {{ '3.9' | int }} {{ 'x' | int }} {{ 'x' | int(5) }} {{ 4.7 | int }} {{ -4.7 | int }} {{ '0x1F' | int(0, 16) }} {{ '1_000' | int }} {{ none | int }} {{ true | int }} {{ '1e3' | int }}")
snippet("f_float", "{{ '3.5' | float }} {{ 2 | float }} {{ 'x' | float }} {{ 'x' | float(1.5) }} {{ ' 1e3 ' | float }} {{ 'inf' | float }} {{ '-nan' | float }} {{ '1_0.5' | float }} {{ none | float }}")
snippet("f_abs", "{{ -3 | abs }} {{ -2.5 | abs }} {{ 4 | abs }}")
snippet("f_round", "{{ 2.5 | round }} {{ 3.5 | round }} {{ 0.125 | round(2) }} {{ 2.675 | round(2) }} {{ 3 | round }} {{ 42.55 | round(1, 'floor') }} {{ 42.51 | round(1, 'ceil') }} {{ 1234.5 | round(-2) }} {{ -0.5 | round }}")
snippet("f_replace", "{{ 'aaa' | replace('a', 'b') }} {{ 'aaa' | replace('a', 'b', 2) }} {{ 'abc' | replace('', '-') }} {{ 1.5 | replace('.', ',') }}")
snippet("f_safe_escape", "{{ '<a href=\"x\">&\\'' | e }} {{ '<b>' | escape }} {{ '<b>' | safe }} {{ ('<' | e) | e }} {{ '<' | forceescape }}")
snippet("f_markup_concat", "{{ ('<'|e) + '<' }}|{{ '<' + ('<'|e) }}|{{ ('<'|e) ~ '<' }}|{{ ('<'|safe) + '>' }}|{{ '<' is escaped }}|{{ ('<'|e) is escaped }}")
snippet("f_indent", "[{{ 'a\\nb\\n\\nc' | indent }}] [{{ 'a\\nb' | indent(2, true) }}] [{{ 'a\\n\\nb' | indent(2, blank=true) }}] [{{ 'a\\nb' | indent('> ') }}] [{{ 'a\\r\\nb\\n' | indent(1) }}]")
snippet("f_center", "[{{ 'abc' | center(9) }}] [{{ 'ab' | center(7) }}] [{{ 'abc' | center(2) }}]")
snippet("f_truncate", "{{ 'foo bar baz qux' | truncate(9) }} {{ 'foo bar baz qux' | truncate(9, true) }} {{ 'foo bar baz qux' | truncate(11, false, '…', 0) }} {{ 'short' | truncate(3) }}")
snippet("f_wordcount", "{{ 'hello world, foo_bar 42 ünïcode' | wordcount }}")
snippet("f_map", "{{ ['a', 'B'] | map('upper') | list }} {{ users | map(attribute='name') | list }} {{ users | map(attribute='age', default=0) | list }} {{ [1.5, 2.5] | map('round') | list }} {{ ['a,b'] | map('replace', ',', ';') | join }}",
        users=[{"name": "x", "age": 3}, {"name": "y"}])
snippet("f_map_nested_attribute", "{{ msgs | map(attribute='function.name') | join(',') }} {{ rows | map(attribute='1') | list }}",
        msgs=[{"function": {"name": "f"}}, {"function": {"name": "g"}}], rows=[[1, 2], [3, 4]])
snippet("f_select_reject", "{{ range(10) | select('odd') | list }} {{ range(10) | reject('odd') | list }} {{ [0, 1, '', 'a', none] | select | list }} {{ [1, 5, 10] | select('gt', 3) | list }} {{ [1, 5, 10] | reject('==', 5) | list }}")
snippet("f_selectattr", "{{ msgs | selectattr('role', 'equalto', 'user') | map(attribute='content') | list }} {{ msgs | rejectattr('role', 'eq', 'user') | list | length }} {{ msgs | selectattr('tool_calls') | list | length }} {{ msgs | selectattr('tool_calls', 'defined') | list | length }}",
        msgs=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "tool_calls": [1]}, {"role": "user", "content": "c"}])
snippet("f_unique", "{{ ['a', 'A', 'b', 'a'] | unique | list }} {{ ['a', 'A', 'b'] | unique(case_sensitive=true) | list }} {{ users | unique(attribute='n') | map(attribute='id') | list }} {{ [1, 1.0, true, 2] | unique | list }}",
        users=[{"n": 1, "id": "x"}, {"n": 1, "id": "y"}, {"n": 2, "id": "z"}])
snippet("f_sort", "{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A', 'a', 'B'] | sort }} {{ ['b', 'A', 'a', 'B'] | sort(case_sensitive=true) }} {{ users | sort(attribute='age') | map(attribute='n') | list }} {{ users | sort(attribute='age,n', reverse=true) | map(attribute='n') | list }}",
        users=[{"n": "c", "age": 2}, {"n": "a", "age": 1}, {"n": "b", "age": 2}])
snippet("f_sort_mixed_raises", "{{ [1, 'a'] | sort }}")
snippet("f_dictsort", "{{ d | dictsort }} {{ d | dictsort(reverse=true) }} {{ d | dictsort(by='value') }} {{ d | dictsort(true) }}", d={"b": 2, "A": 3, "a": 1})
snippet("f_batch_slice", "{{ range(7) | batch(3) | list }} {{ range(7) | batch(3, 'x') | list }} {{ range(7) | slice(3) | list }} {{ range(7) | slice(3, 0) | list }}")
snippet("f_min_max_sum", "{{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ ['b', 'A'] | min }} {{ [1, 2, 3] | sum }} {{ items | sum(attribute='v') }} {{ [0.5, 1] | sum(start=1) }} [{{ [] | max }}]", items=[{"v": 1}, {"v": 2.5}])
snippet("f_reverse", "{{ 'abc' | reverse }} {{ [1, 2, 3] | reverse | list }} {{ {'a': 1, 'b': 2} | reverse | list }}")
snippet("f_format", "{{ '%s-%d-%.2f-%5s-%-5s|-%03d-%x-%r' | format('a', 3, 2.345, 'r', 'l', 7, 255, 'q') }} {{ '%(a)s=%(b)s' | format(a=1, b=2) }} {{ '%%' | format() }}")
snippet("f_attr", "{{ d | attr('items') is callable }} [{{ d | attr('a') }}] {{ ns | attr('x') }}", d={"a": 1}, ns=None)
snippet("f_chain", "{{ '  Hello World  ' | trim | lower | replace('world', 'there') | title | center(15) }}")
snippet("f_filter_binds_tighter", "{{ 1 + -2 | abs }} {{ 'a' ~ 'b' | upper }} {{ [1, 2] | length + 1 }}")
snippet("f_unknown_raises_at_parse", "{{ x | nosuchfilter }}")
snippet("f_unknown_deferred_in_if", "{% if false %}{{ x | nosuchfilter }}{% endif %}ok")
snippet("f_unknown_deferred_in_conditional", "{{ x | nosuchfilter if false }}ok")
snippet("f_unknown_raises_when_reached", "{% if true %}{{ x | nosuchfilter }}{% endif %}")
snippet("f_unknown_in_loop_raises_at_parse", "{% if false %}{% for i in [] %}{{ x | nosuchfilter }}{% endfor %}{% endif %}")
snippet("f_too_many_arguments", "{{ 'a' | upper(1) }}")
snippet("f_bad_keyword", "{{ 'a' | trim(foo=1) }}")

# Tests.
snippet("t_defined", "{{ x is defined }} {{ missing is defined }} {{ missing is undefined }} {{ x is not defined }} {{ d.k is defined }} {{ d.z is defined }}", x=None, d={"k": 1})
snippet("t_types", "{% for v in values %}{{ v is none }}{{ v is string }}{{ v is number }}{{ v is integer }}{{ v is float }}{{ v is boolean }}{{ v is mapping }}{{ v is iterable }}{{ v is sequence }}|{% endfor %}",
        values=[None, "s", 1, 1.5, True, {"a": 1}, [1], ""])
snippet("t_undefined_types", "{{ missing is iterable }} {{ missing is sequence }} {{ missing is string }} {{ missing is none }} {{ missing is mapping }}")
snippet("t_true_false", "{{ true is true }} {{ 1 is true }} {{ false is false }} {{ 0 is false }} {{ none is false }}")
snippet("t_callable", "{{ range is callable }} {{ 'x'.upper is callable }} {{ 'x' is callable }} {{ namespace is callable }} {% macro m() %}{% endmacro %}{{ m is callable }} {{ d.items is callable }}", d={})
snippet("t_comparisons", "{{ 1 is eq 1 }} {{ 1 is equalto 2 }} {{ 1 is ne 2 }} {{ 1 is eq 1.0 }} {{ 1 is lt 2 }} {{ 2 is gt 1 }} {{ 2 is le 2 }} {{ 2 is ge 3 }} {{ 'a' is sameas 'a' }} {{ none is sameas none }}")
snippet("t_numbers", "{{ 3 is odd }} {{ 3 is even }} {{ -3 is odd }} {{ 0 is even }} {{ 9 is divisibleby 3 }} {{ 10 is divisibleby(3) }} {{ 7.5 is divisibleby 2.5 }}")
snippet("t_in", "{{ 2 is in [1, 2] }} {{ 'x' is in 'abc' }} {{ 'a' is in {'a': 1} }}")
snippet("t_case", "{{ 'abc' is lower }} {{ 'aBc' is lower }} {{ 'ABC' is upper }} {{ '123' is lower }} {{ 'A1' is upper }}")
snippet("t_filter_test", "{{ 'upper' is filter }} {{ 'nosuch' is filter }} {{ 'odd' is test }} {{ 'nosuch' is test }}")
snippet("t_not_precedence", "{{ not 1 is odd }} {{ 2 is not odd }} {{ none is not none }}")
snippet("t_odd_string_raises", "{{ 'a' is odd }}")
snippet("t_unknown_raises_at_parse", "{{ x is nosuchtest }}")
snippet("t_unknown_deferred_in_if", "{% if false %}{{ x is nosuchtest }}{% endif %}ok")

# Python str methods.
snippet("m_strip", "[{{ '  a  '.strip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ '  a  '.lstrip() }}] [{{ '  a  '.rstrip() }}] [{{ 'abcba'.lstrip('ab') }}] [{{ '\\n\\nx\\n'.rstrip('\\n') }}] [{{ 'é-é'.strip('é') }}]")
snippet("m_split", "{{ 'a,b,,c'.split(',') }} {{ ' a  b \\n c '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'a b c'.split(none, 1) }} {{ ''.split() }} {{ ''.split(',') }} {{ 'a<sep>b'.split('<sep>') }}")
snippet("m_rsplit", "{{ 'a,b,c'.rsplit(',', 1) }} {{ '  a b c  '.rsplit(none, 1) }} {{ 'a,b'.rsplit(',') }} {{ 'x</think>y</think>z'.rsplit('</think>', 1) }}")
snippet("m_split_maxsplit_keyword", "{{ 'a b c'.split(maxsplit=1) }} {{ 'a-b-c'.split(sep='-', maxsplit=0) }}")
snippet("m_split_empty_separator", "{{ 'abc'.split('') }}")
snippet("m_splitlines", "{{ 'a\\nb\\r\\nc\\rd\\n'.splitlines() }} {{ 'a\\nb\\n'.splitlines(true) }} {{ ''.splitlines() }}")
snippet("m_startswith_endswith", "{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith(('x', 'h')) }} {{ 'hello'.endswith(('x', 'y')) }} {{ 'hello'.startswith('l', 2) }} {{ '/nothink'.endswith('/nothink') }}")
snippet("m_find", "{{ 'hello'.find('l') }} {{ 'hello'.rfind('l') }} {{ 'hello'.find('z') }} {{ 'héllo'.find('l') }} {{ 'hello'.find('l', 3) }} {{ 'hello'.index('e') }} {{ 'hello'.count('l') }} {{ 'aaaa'.count('aa') }} {{ 'abc'.count('') }}")
snippet("m_index_missing_raises", "{{ 'hello'.index('z') }}")
snippet("m_replace_case", "{{ 'a-b-c'.replace('-', '+') }} {{ 'a-b-c'.replace('-', '+', 1) }} {{ 'Hi There'.upper() }} {{ 'Hi There'.lower() }} {{ 'hi there'.title() }} {{ 'HI there'.capitalize() }} {{ 'Hi'.swapcase() }} {{ \"they're bill's 3rd\".title() }}")
snippet("m_join", "{{ ', '.join(['a', 'b']) }} {{ ''.join('abc') }} {{ '-'.join(d) }}", d={"x": 1, "y": 2})
snippet("m_join_non_string_raises", "{{ ','.join([1, 2]) }}")
snippet("m_format", "{{ '{} and {}'.format('a', 'b') }} {{ '{0}{1}{0}'.format('x', 'y') }} {{ '{name}!'.format(name='n') }} {{ '{:>5}|{:<5}|{:^5}|'.format('a', 'b', 'c') }} {{ '{:.2f} {:5d} {:05d} {:,}'.format(3.14159, 42, 42, 1234567) }} {{ '{{literal}}'.format() }} {{ '{0[0]} {1[k]} {2.k}'.format([1], {'k': 2}, {'k': 3}) }} {{ '{!r}'.format('q') }} {{ '{}'.format(1.0) }} {{ '{:x} {:b} {:e} {:.3}'.format(255, 5, 1234.5, 1.0) }}")
snippet("m_is_methods", "{{ '123'.isdigit() }} {{ '12a'.isdigit() }} {{ 'abc'.isalpha() }} {{ 'ab1'.isalnum() }} {{ '  '.isspace() }} {{ ''.isdigit() }} {{ 'abc'.islower() }} {{ 'ABC'.isupper() }} {{ 'Hello World'.istitle() }} {{ 'é'.isalpha() }}")
snippet("m_unicode_digits", "{{ '٣٤'.isdigit() }} {{ '٣٤'.isalpha() }} {{ '１２'.isdecimal() }} {{ 'éa'.isalpha() }} {{ '中文'.isalnum() }} {{ 'x٣'.isalnum() }}")
snippet("m_justify", "[{{ 'ab'.ljust(5) }}] [{{ 'ab'.rjust(5, '*') }}] [{{ 'ab'.center(6, '-') }}] [{{ '42'.zfill(5) }}] [{{ '-42'.zfill(5) }}]")
snippet("m_partition", "{{ 'a=b=c'.partition('=') }} {{ 'a=b=c'.rpartition('=') }} {{ 'abc'.partition('x') }} {{ 'prefix_x'.removeprefix('prefix_') }} {{ 'x.txt'.removesuffix('.txt') }}")
snippet("m_think_split", "{% set c = content %}{{ c.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[-1].lstrip('\\n') }}", content="<think>\nreason\n</think>\n\nanswer")
snippet("m_string_method_on_markup", "{{ ('<a>'|e).upper() + '<' }}")

# dict and list methods, and the sandbox.
snippet("m_dict_methods", "{{ d.items() | list }} {{ d.keys() | list }} {{ d.values() | list }} {{ d.get('a') }} {{ d.get('x', 'dflt') }} {{ d.copy() }} {{ d.items() | length }}", d={"a": 1, "b": None})
snippet("m_list_methods", "{{ l.count(1) }} {{ l.index(2) }} {{ (1, 2, 1).count(1) }} {{ l.copy() }}", l=[1, 2, 1])
snippet("sandbox_list_append", "{% set l = [1] %}{% set _ = l.append(2) %}{{ l }}")
snippet("sandbox_dict_update", "{% set d = {} %}{{ d.update({'a': 1}) }}")
snippet("sandbox_dict_pop", "{{ d.pop('a') }}", d={"a": 1})
snippet("sandbox_unsafe_attribute_prints_empty", "[{{ l.append }}]", l=[1])

# Errors.
snippet("err_unclosed_if", "{% if true %}x")
snippet("err_unclosed_for", "{% for x in y %}x{% endif %}")
snippet("err_unknown_tag", "{% frobnicate %}")
snippet("err_empty_expression", "{{ }}")
snippet("err_incomplete_expression", "{{ 1 + }}")
snippet("err_stray_endfor", "{% endfor %}")
snippet("err_unclosed_string", "{{ 'abc }}")
snippet("err_unclosed_comment", "{# never closed")
snippet("err_unbalanced_bracket", "{{ [1, 2 }}")
snippet("err_break_outside_loop", "{% break %}")
snippet("err_continue_in_macro", "{% for x in [1] %}{% macro m() %}{% continue %}{% endmacro %}{% endfor %}")
snippet("err_assign_to_literal", "{% set 1 = 2 %}")
snippet("err_default_before_required", "{% macro m(a=1, b) %}{% endmacro %}")
snippet("err_call_block_without_call", "{% call x %}{% endcall %}")
snippet("err_include", "{% include 'other.jinja' %}")
snippet("err_extends", "{% extends 'base.jinja' %}")
snippet("err_import", "{% import 'macros.jinja' as m %}")
snippet("err_chained_tests", "{{ 1 is odd is even }}")
snippet("err_do_tag_not_enabled", "{% do x.append(1) %}")
snippet("err_invalid_character", "{{ 1 $ 2 }}")
snippet("err_undefined_call", "{{ missing() }}")
snippet("err_call_string", "{{ 'abc'() }}")
snippet("err_macro_keyword_caller_twice", "{% macro m() %}{% endmacro %}{% call m() %}x{% endcall %}")


# More edge cases: Undefined through filters, printf-style %, format specs,
# multi-line tags, range objects.
snippet("f_on_undefined", "[{{ missing|lower }}][{{ missing|upper }}][{{ missing|trim }}][{{ missing|join(',') }}][{{ missing|first }}][{{ missing|string }}][{{ missing|e }}][{{ missing|capitalize }}][{{ missing|replace('a', 'b') }}][{{ missing|count }}][{{ missing|list }}][{{ missing|sort }}][{{ missing|unique|list }}][{{ missing|map('upper')|list }}][{{ missing|select|list }}][{{ missing|batch(2)|list }}][{{ missing|sum }}][{{ missing|min }}][{{ missing|reverse|list }}][{{ missing|truncate(5) }}][{{ missing|wordcount }}][{{ missing|title }}][{{ missing|center(4) }}]")
snippet("f_int_undefined_raises", "{{ missing|int }}")
snippet("f_indent_undefined_raises", "{{ missing|indent }}")
snippet("f_dictsort_undefined_raises", "{{ missing|dictsort }}")
snippet("f_abs_undefined_raises", "{{ missing|abs }}")
snippet("f_attr_undefined_raises", "{{ missing|attr('x') }}")
snippet("loop_outside_loop_raises", "{{ loop.index }}")
snippet("set_from_undefined", "{% set x = y %}{{ x is defined }}[{{ x }}]")
snippet("macro_calls_macro", "{% macro a(x) %}[{{ x }}]{% endmacro %}{% macro b(y) %}{{ a(y ~ '!') }}{% endmacro %}{{ b('q') }}")
snippet("macro_default_reads_outer", "{% set greeting = 'hi' %}{% macro m(word=greeting) %}{{ word }}{% endmacro %}{{ m() }} {{ m('yo') }}")
snippet("range_slicing", "{{ range(10)[2:5] }} {{ range(10)[::-1] }} {{ range(10)[1] }} {{ range(0, 10, 3)[-1] }} {{ range(10)[8:2:-2] }} {{ range(10)[20] is defined }}")
snippet("loop_depth_plain", "{% for x in [1] %}{{ loop.depth }}{{ loop.depth0 }}{% endfor %}")
snippet("percent_format", "{{ '%s' % 'a' }} {{ '%s-%s' % (1, 2) }} {{ '%d%%' % 50 }} {{ '%(x)s' % {'x': 1} }} {{ '%5.1f|%-6d|%+d|% d' % (3.14159, 42, 5, 7) }} {{ '%s' % [1, 2] }} {{ '%r' % 'q' }} {{ '%c' % 65 }} {{ '%e' % 12345.678 }} {{ '%g' % 0.00001 }} {{ '%x %X %o' % (255, 255, 8) }} {{ '%#x|%#o' % (255, 8) }} {{ '%.3s' % 'abcdef' }} {{ '%05.1f' % -2.5 }} {{ '%s' % none }} {{ '%d' % 3.99 }} {{ '%s' % (1.5,) }}")
snippet("percent_not_enough_arguments", "{{ '%s %s' % 'a' }}")
snippet("percent_too_many_arguments", "{{ '%s' % (1, 2) }}")
snippet("percent_number_from_string_raises", "{{ '%d' % 'a' }}")
snippet("format_specs", "[{{ '{:>8.3f}'.format(3.14159) }}] [{{ '{:+d}'.format(5) }}] [{{ '{:^10}'.format('mid') }}] [{{ '{:*<6}'.format('ab') }}] [{{ '{:08.2f}'.format(-3.5) }}] [{{ '{:.1%}'.format(0.256) }}] [{{ '{:,.2f}'.format(1234567.891) }}] [{{ '{:_d}'.format(1000000) }}] [{{ '{:#x}'.format(255) }}] [{{ '{:g}'.format(1e-7) }}] [{{ '{:.3}'.format(2.0) }}] [{{ '{:e}'.format(0.0) }}] [{{ '{:5}'.format(42) }}] [{{ '{:5}'.format('ab') }}] [{{ '{:=+6}'.format(-3) }}]")
snippet("format_nested_fields", "[{{ '{:{}}'.format('a', 4) }}] [{{ '{:>{w}.{p}f}'.format(3.14159, w=8, p=2) }}] [{{ '{0:{1}}'.format('b', 3) }}]")
snippet("format_missing_index_raises", "{{ '{} {}'.format('a') }}")
snippet("format_mixed_numbering_raises", "{{ '{0} {}'.format('a', 'b') }}")
snippet("truthiness_objects", "{% if namespace() %}ns{% endif %}{% if range(0) %}r{% else %}empty-range{% endif %}{% if [1]|select('odd') %}gen{% endif %}{% if ('' | e) %}m{% else %}empty-markup{% endif %}")
snippet("float_repr_more", "{{ [5e-324, 1.7976931348623157e308, 0.3, 100.0, 1234567.0, 1e100, 2.5e-5, 1/7, 9007199254740993.0, 0.1 * 3] }}")
snippet("float_tojson_more", "{{ [1e16, 1e-7, -0.0, 1e22, 123.0, 0.5] | tojson }}")
snippet("multiline_tags", "{% if\n  true\n  and 1 < 2\n%}\nyes\n{% endif %}{{\n  1 +\n  2\n}}")
snippet("ws_real_world_patterns", "{%- for m in messages %}\n    {%- if m.role == 'user' %}\n{{- '<u>' + m.content }}\n    {%- else %}\n{{- '<a>' + m.content }}\n    {%- endif %}\n{%- endfor %}\n{{- '\\n' }}",
        messages=[{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}])
snippet("ws_comment_line_lstrip", "a\n    {# note #}\n    b\n  {#- trimmed #}  c")
snippet("ws_lstrip_block_after_variable", "{{ 1 }}\n  {% if true %}\n  x\n  {% endif %}\n")
snippet("ws_minus_on_raw_begin_only", "x   {%- raw %}  y  {% endraw %}   z")
snippet("set_tuple_from_items", "{% for item in {'a': 1}.items() %}{% set k, v = item %}{{ k }}{{ v }}{% endfor %}")
snippet("string_compare_case", "{{ 'a' < 'B' }} {{ 'abc' < 'abd' }} {{ 'ab' < 'abc' }} {{ '' < 'a' }}")
snippet("nested_data_access", "{{ tools[0].function.parameters.properties.city.description }} {{ tools[0]['function']['name'] }} {{ tools | map(attribute='function') | map(attribute='name') | join(',') }}",
        tools=[{"type": "function", "function": {"name": "f", "parameters": {"properties": {"city": {"description": "城市"}}}}}])
snippet("dict_literal_order_tojson", "{{ {'z': 1, 'a': {'y': [1, {'b': 2}], 'c': none}} | tojson }} {{ {'z': 1, 'a': 2} | tojson(sort_keys=true, indent=2) }}")
snippet("unicode_slicing_len", "{{ '😀ab中'|length }} {{ '😀ab中'[0] }} {{ '😀ab中'[1:3] }} {{ '😀ab中'[::-1] }} {{ '😀ab中'.find('中') }}")
snippet("tojson_in_attribute_loop", "{% for k, v in args.items() %}<{{ k }}>{{ v | tojson(ensure_ascii=False) if v is not string else v }}</{{ k }}>{% endfor %}",
        args={"city": "北京", "days": 3, "flags": [True, None], "nested": {"a": 1.5}, "empty": "", "quote": "a\"b"})


# ---- Chat conversations ----

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city — returns °C",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "城市名称, e.g. 北京"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7, "default": 1},
            },
            "required": ["city"],
        },
    },
}

SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search documents. Quotes \"like this\" and backslashes \\ are escaped.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "filters": {
                    "type": "object",
                    "properties": {
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "after": {"type": ["string", "null"], "format": "date"},
                        "score": {"type": "number", "minimum": 0.5},
                    },
                    "additionalProperties": False,
                },
                "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            },
            "required": ["query"],
        },
    },
}

PLAIN_TOOL = {"name": "ping", "description": "No wrapper object; no parameters.", "parameters": {}}

IMAGE = {"type": "image", "image": "file:///tmp/cat.png"}
IMAGE_URL = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
VIDEO = {"type": "video", "video": "file:///tmp/clip.mp4"}


def text(value):
    return {"type": "text", "text": value}


CONVERSATIONS = {
    "user_only": [{"role": "user", "content": "Hello"}],
    "system_user": [{"role": "system", "content": "You are a helpful assistant."}, {"role": "user", "content": "Hi!"}],
    "multi_turn": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
        {"role": "user", "content": "And 3+3?"},
    ],
    "history_reasoning_content": [
        {"role": "user", "content": "Think about it."},
        {"role": "assistant", "content": "The answer is 42.", "reasoning_content": "  Let me think...\nIt is 42.  "},
        {"role": "user", "content": "Why?"},
    ],
    "history_think_in_content": [
        {"role": "user", "content": "Question one"},
        {"role": "assistant", "content": "<think>\nFirst reasoning\n</think>\n\nFirst answer"},
        {"role": "user", "content": "Question two"},
    ],
    "last_assistant_reasoning": [
        {"role": "user", "content": "Solve it"},
        {"role": "assistant", "content": "Done.", "reasoning_content": "Working it out"},
    ],
    "last_assistant_think_in_content": [
        {"role": "user", "content": "Solve it"},
        {"role": "assistant", "content": "<think>kept reasoning</think>Final"},
    ],
    "assistant_reasoning_not_string": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": "answer", "reasoning_content": None},
    ],
    "tools_user": [{"role": "user", "content": "Weather in Paris?"}],
    "tool_call_round_trip": [
        {"role": "user", "content": "Weather in 北京?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"city": "北京", "days": 2}}}],
        },
        {"role": "tool", "content": "{\"temp\": 21, \"sky\": \"晴\"}"},
    ],
    "tool_call_content_null": [
        {"role": "user", "content": "Search it"},
        {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "search", "arguments": {"query": "x"}}}]},
        {"role": "tool", "content": "no results"},
        {"role": "assistant", "content": "Nothing found."},
    ],
    "tool_call_without_function_wrapper": [
        {"role": "user", "content": "ping"},
        {"role": "assistant", "content": "Pinging.", "tool_calls": [{"name": "ping", "arguments": {}}]},
        {"role": "tool", "content": "pong"},
    ],
    "parallel_tool_calls": [
        {"role": "user", "content": "Compare weather and search"},
        {
            "role": "assistant",
            "content": "Let me check both.",
            "reasoning_content": "Two tools needed",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}},
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {
                        "name": "search",
                        "arguments": {
                            "query": "café \"best\"",
                            "filters": {"tags": ["a", "ü"], "after": None, "score": 0.75},
                            "limit": 10,
                            "exact": True,
                        },
                    },
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18°C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "3 results"},
        {"role": "assistant", "content": "Paris is 18°C; 3 results."},
        {"role": "user", "content": "Thanks"},
    ],
    "tool_result_list_content": [
        {"role": "user", "content": "Look"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "search", "arguments": {"query": "cats"}}}]},
        {"role": "tool", "content": [text("found: "), IMAGE, {"type": "IMAGE_URL", "image_url": {"url": "x"}}, VIDEO, {"type": "json", "data": {"k": "v"}}, "plain string", {"output": "out"}]},
    ],
    "tool_result_dict_content": [
        {"role": "user", "content": "Look"},
        {"role": "tool", "content": {"output": "value", "other": 1}},
    ],
    "consecutive_tool_messages_list": [
        {"role": "user", "content": "Run"},
        {"role": "tool", "content": [text("one")]},
        {"role": "tool", "content": [text("two")]},
        {"role": "tool", "content": "three"},
    ],
    "user_image_and_text": [{"role": "user", "content": [IMAGE, text("What is in this picture?")]}],
    "user_video_text_image": [{"role": "user", "content": [text("Compare "), VIDEO, text(" with "), {"type": "image_url", "image_url": {"url": "http://x"}}]}],
    "user_image_key_without_type": [{"role": "user", "content": [{"image": "file:///a.png"}, text("describe")]}],
    "system_content_parts": [
        {"role": "system", "content": [text("System part one. "), text("Part two."), IMAGE]},
        {"role": "user", "content": "Hi"},
    ],
    "assistant_content_parts": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [text("<think>r</think>"), text("visible")]},
        {"role": "user", "content": "again"},
    ],
    "empty_contents": [
        {"role": "system", "content": ""},
        {"role": "user", "content": ""},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "   "},
    ],
    "unicode_content": [
        {"role": "user", "content": "Résumé 中文 日本語 한국어 emoji 😀👍🏽 RTL עברית \u200b zero-width"},
        {"role": "assistant", "content": "Ответ: ✓ «quotes» \\ backslash {{ not a tag }} {% nor this %}"},
        {"role": "user", "content": "tab\there\nnewline\r\nCRLF"},
    ],
    "nothink_suffix": [{"role": "user", "content": "Quick answer /nothink"}],
    "whitespace_answers": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "\n\n  padded answer  \n\n", "reasoning_content": "\n  padded reasoning \n"},
    ],
    "long_history": [
        {"role": "system", "content": "sys"},
        *[m for i in range(6) for m in (
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": f"<think>thought {i}</think>answer {i}"},
        )],
        {"role": "user", "content": "final"},
    ],
}

TOOL_SETS = {
    "tools_user": [WEATHER_TOOL],
    "tool_call_round_trip": [WEATHER_TOOL],
    "parallel_tool_calls": [WEATHER_TOOL, SEARCH_TOOL],
    "tool_call_without_function_wrapper": [PLAIN_TOOL],
    "tool_result_list_content": [SEARCH_TOOL],
}

THINKING_VARIANTS = [("absent", None), ("on", True), ("off", False)]


def render_case(template_source, messages, tools, add_generation_prompt, kwargs):
    rendered, _ = render_jinja_template(
        conversations=[messages],
        tools=tools,
        chat_template=template_source,
        add_generation_prompt=add_generation_prompt,
        **kwargs,
    )
    return rendered[0]


def chat_cases():
    cases = []
    glyph_source = GLYPH_TEMPLATE.read_text(encoding="utf-8")
    for name, messages in CONVERSATIONS.items():
        tools = TOOL_SETS.get(name)
        for thinking_name, thinking in THINKING_VARIANTS:
            for add_generation_prompt in (True, False):
                kwargs = {} if thinking is None else {"enable_thinking": thinking}
                cases.append(make_chat_case(
                    f"glyph_{name}_thinking_{thinking_name}_{'gen' if add_generation_prompt else 'nogen'}",
                    "tiny-glyph/chat_template.jinja", glyph_source, messages, tools, add_generation_prompt, kwargs))

    for template_name, conversations in OTHER_TEMPLATE_CASES.items():
        source = (FIXTURES / template_name).read_text(encoding="utf-8")
        for case_name, messages, tools, add_generation_prompt, kwargs in conversations:
            cases.append(make_chat_case(f"{template_name.removesuffix('.jinja')}_{case_name}", f"fixtures/{template_name}",
                                        source, messages, tools, add_generation_prompt, kwargs))
    return cases


def make_chat_case(name, template_path, source, messages, tools, add_generation_prompt, kwargs):
    # The exact keyword arguments render_jinja_template passes to Template.render().
    context = {"messages": messages, "tools": tools, "documents": None, "add_generation_prompt": add_generation_prompt, **kwargs}
    case = {"name": name, "template_file": template_path, "context": context}
    try:
        case["output"] = render_case(source, messages, tools, add_generation_prompt, kwargs)
    except jinja2.TemplateError as error:
        case["error"] = "render"
        case["error_class"] = type(error).__name__
        case["error_message"] = str(error)
    return case


CHATML_CASES = [
    ("plain", CONVERSATIONS["multi_turn"], None, True, {}),
    ("no_system", CONVERSATIONS["user_only"], None, False, {}),
    ("tools", CONVERSATIONS["tools_user"], [WEATHER_TOOL, PLAIN_TOOL], True, {}),
    ("tool_round_trip", CONVERSATIONS["parallel_tool_calls"], [WEATHER_TOOL, SEARCH_TOOL], True, {}),
    ("content_parts", CONVERSATIONS["user_image_and_text"], None, True, {}),
    ("custom_system_kwarg", CONVERSATIONS["user_only"], None, True, {"default_system": "Custom default ✓"}),
    ("bad_role", [{"role": "narrator", "content": "x"}], None, False, {}),
]

LLAMA_CASES = [
    ("plain", CONVERSATIONS["multi_turn"], None, True, {"bos_token": "<|begin_of_text|>"}),
    ("date_and_tools", CONVERSATIONS["tools_user"], [WEATHER_TOOL], True, {"bos_token": "<s>", "date_string": "01 Jan 2025"}),
    ("tool_call", CONVERSATIONS["tool_call_round_trip"], [WEATHER_TOOL], False, {"bos_token": "<s>"}),
    ("no_bos", CONVERSATIONS["unicode_content"], None, True, {}),
    ("two_tool_calls_rejected", CONVERSATIONS["parallel_tool_calls"], [WEATHER_TOOL], True, {"bos_token": "<s>"}),
]

MISTRAL_CASES = [
    ("alternating", CONVERSATIONS["multi_turn"], None, False, {"bos_token": "<s>", "eos_token": "</s>"}),
    ("user_only", CONVERSATIONS["user_only"], None, False, {"bos_token": "<s>", "eos_token": "</s>"}),
    ("not_alternating", [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}], None, False, {"bos_token": "<s>", "eos_token": "</s>"}),
    ("history", CONVERSATIONS["long_history"], None, False, {"bos_token": "<s>", "eos_token": "</s>"}),
]

OTHER_TEMPLATE_CASES = {
    "chat_template_chatml.jinja": CHATML_CASES,
    "chat_template_llama3.jinja": LLAMA_CASES,
    "chat_template_mistral.jinja": MISTRAL_CASES,
}


# ---- Writing ----

def snippet_cases():
    cases = []
    names = set()
    for name, template, context in SNIPPETS:
        if name in names:
            sys.exit(f"duplicate snippet name {name}")
        names.add(name)
        case = {"name": name, "template": template, "context": context}
        try:
            compiled = _compile_jinja_template(template)
        except (jinja2.TemplateSyntaxError, SyntaxError) as error:
            case.update(error="parse", error_class=type(error).__name__, error_message=str(error))
            cases.append(case)
            continue
        try:
            case["output"] = compiled.render(**context)
        except Exception as error:  # any exception: the engine must raise too
            case.update(error="render", error_class=type(error).__name__, error_message=str(error))
        cases.append(case)
    return cases


def write_jsonl(path, cases):
    with open(path, "w", encoding="utf-8") as out:
        for case in cases:
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {path.relative_to(ROOT)}")


def main():
    print(f"transformers {transformers.__version__}, jinja2 {jinja2.__version__}")
    write_jsonl(FIXTURES / "jinja_snippets.jsonl", snippet_cases())
    write_jsonl(FIXTURES / "chat_template_cases.jsonl", chat_cases())


if __name__ == "__main__":
    main()
