// Filters over sequences and mappings (jinja_sequence_filters.cpp), listed
// for the filter registry in jinja_filters.cpp. Each follows the jinja2 3.1
// filter of the same name.
#pragma once

#include "chat/jinja_ast.h"
#include "chat/jinja_value.h"

namespace glyph::chat::jinja {

Value filter_batch(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_dictsort(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_first(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_items(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_join(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_last(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_list(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_map(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_max(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_min(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_reject(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_rejectattr(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_reverse(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_select(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_selectattr(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_slice(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_sort(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_sum(Interpreter& interpreter, const Value& value, Arguments& arguments);
Value filter_unique(Interpreter& interpreter, const Value& value, Arguments& arguments);

}  // namespace glyph::chat::jinja
