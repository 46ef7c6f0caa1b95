#include "chat/tool_schema.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "chat/tool_call_json.h"
#include "core/error.h"

namespace glyph::chat {
namespace {

using Json = nlohmann::ordered_json;

const char* json_kind(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    default:
      return "unknown";
  }
}

std::optional<JsonType> type_from_name(std::string_view name) {
  if (name == "string") return JsonType::kString;
  if (name == "number") return JsonType::kNumber;
  if (name == "integer") return JsonType::kInteger;
  if (name == "boolean") return JsonType::kBoolean;
  if (name == "null") return JsonType::kNull;
  if (name == "object") return JsonType::kObject;
  if (name == "array") return JsonType::kArray;
  return std::nullopt;
}

JsonType type_of_value(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return JsonType::kNull;
    case Json::value_t::boolean:
      return JsonType::kBoolean;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
      return JsonType::kInteger;
    case Json::value_t::number_float:
      return JsonType::kNumber;
    case Json::value_t::string:
      return JsonType::kString;
    case Json::value_t::array:
      return JsonType::kArray;
    default:
      return JsonType::kObject;
  }
}

[[noreturn]] void throw_schema_error(size_t tool_index, const std::string& detail) {
  throw_error(ErrorKind::kInvalidRequest, "Tool {} function has invalid 'parameters' schema: {}",
              tool_index, detail);
}

// Checks the keywords this file reads ("type", "anyOf", "oneOf", "allOf",
// "enum", "properties", "required") for the shapes JSON Schema requires,
// in `schema` and in every subschema below them. `where` names the
// subschema in messages, for example "property 'city'".
void check_subschema(const Json& schema, size_t tool_index, const std::string& where) {
  if (schema.is_boolean()) return;
  if (!schema.is_object()) {
    throw_schema_error(tool_index, fmt::format("{} must be a JSON object or a boolean, got {}",
                                               where, json_kind(schema)));
  }

  if (auto type = schema.find("type"); type != schema.end()) {
    std::vector<Json> names;
    if (type->is_array()) {
      names.assign(type->begin(), type->end());
    } else {
      names.push_back(*type);
    }
    for (const Json& name : names) {
      if (!name.is_string() || !type_from_name(name.get<std::string>())) {
        throw_schema_error(tool_index,
                           fmt::format("{} has type {}; expected one of string, number, "
                                       "integer, boolean, null, object, array",
                                       where, name.dump()));
      }
    }
  }

  for (const char* keyword : {"anyOf", "oneOf", "allOf"}) {
    auto list = schema.find(keyword);
    if (list == schema.end()) continue;
    if (!list->is_array() || list->empty()) {
      throw_schema_error(tool_index,
                         fmt::format("{} has '{}' that is not a non-empty array", where, keyword));
    }
    for (size_t i = 0; i < list->size(); ++i) {
      check_subschema((*list)[i], tool_index, fmt::format("{} {}[{}]", where, keyword, i));
    }
  }

  if (auto values = schema.find("enum"); values != schema.end() && !values->is_array()) {
    throw_schema_error(tool_index, fmt::format("{} has 'enum' that is not an array", where));
  }

  if (auto properties = schema.find("properties"); properties != schema.end()) {
    if (!properties->is_object()) {
      throw_schema_error(tool_index,
                         fmt::format("{} has 'properties' that is not an object", where));
    }
    for (const auto& [name, property] : properties->items()) {
      check_subschema(property, tool_index, fmt::format("property '{}'", name));
    }
  }

  if (auto required = schema.find("required"); required != schema.end()) {
    const bool strings =
        required->is_array() && std::all_of(required->begin(), required->end(),
                                            [](const Json& name) { return name.is_string(); });
    if (!strings) {
      throw_schema_error(tool_index,
                         fmt::format("{} has 'required' that is not an array of strings", where));
    }
  }
}

// Adds the types `schema` allows to `types`; returns false when it allows any value.
bool collect_types(const Json& schema, std::vector<JsonType>& types) {
  if (!schema.is_object()) return false;

  if (auto type = schema.find("type"); type != schema.end()) {
    if (type->is_string()) {
      types.push_back(*type_from_name(type->get<std::string>()));
    } else {
      for (const Json& name : *type) types.push_back(*type_from_name(name.get<std::string>()));
    }
    return true;
  }

  for (const char* keyword : {"anyOf", "oneOf"}) {
    auto list = schema.find(keyword);
    if (list == schema.end()) continue;
    for (const Json& alternative : *list) {
      if (!collect_types(alternative, types)) return false;
    }
    return true;
  }

  if (auto values = schema.find("enum"); values != schema.end()) {
    for (const Json& value : *values) types.push_back(type_of_value(value));
    return !values->empty();
  }
  if (auto value = schema.find("const"); value != schema.end()) {
    types.push_back(type_of_value(*value));
    return true;
  }
  if (schema.contains("properties")) {
    types.push_back(JsonType::kObject);
    return true;
  }
  if (schema.contains("items")) {
    types.push_back(JsonType::kArray);
    return true;
  }

  // allOf narrows; its first subschema that names types is a fair summary.
  if (auto list = schema.find("allOf"); list != schema.end()) {
    for (const Json& part : *list) {
      if (collect_types(part, types)) return true;
    }
  }
  return false;
}

// Returns the types in first-seen order without repeats, string last.
std::vector<JsonType> order_types(const std::vector<JsonType>& types) {
  std::vector<JsonType> ordered;
  bool has_string = false;
  for (JsonType type : types) {
    if (type == JsonType::kString) {
      has_string = true;
    } else if (std::find(ordered.begin(), ordered.end(), type) == ordered.end()) {
      ordered.push_back(type);
    }
  }
  if (has_string) ordered.push_back(JsonType::kString);
  return ordered;
}

ToolParameter parse_parameter(const std::string& name, const Json& schema, const Json& required) {
  ToolParameter parameter;
  parameter.name = name;

  std::vector<JsonType> types;
  if (collect_types(schema, types)) parameter.types = order_types(types);

  if (schema.is_object()) {
    if (auto values = schema.find("enum"); values != schema.end()) {
      parameter.allowed_values.assign(values->begin(), values->end());
    } else if (auto value = schema.find("const"); value != schema.end()) {
      parameter.allowed_values.push_back(*value);
    }
  }

  parameter.required = required.is_array() &&
                       std::find(required.begin(), required.end(), Json(name)) != required.end();
  return parameter;
}

ToolSpec parse_tool(const Json& tool, size_t index) {
  if (!tool.is_object()) {
    throw_error(ErrorKind::kInvalidRequest,
                "Tool {} is a {}; expected {{\"type\": \"function\", \"function\": {{...}}}}",
                index, json_kind(tool));
  }
  if (auto type = tool.find("type"); type != tool.end() && *type != "function") {
    throw_error(ErrorKind::kInvalidRequest,
                "Tool {} has type {}; only \"function\" tools are supported", index, type->dump());
  }
  auto function = tool.find("function");
  if (function == tool.end() || !function->is_object()) {
    throw_error(ErrorKind::kInvalidRequest,
                "Tool {} has no 'function' object; expected {{\"type\": \"function\", "
                "\"function\": {{\"name\": ...}}}}",
                index);
  }

  ToolSpec spec;
  auto name = function->find("name");
  if (name == function->end() || !name->is_string() || name->get<std::string>().empty()) {
    throw_error(ErrorKind::kInvalidRequest,
                "Tool {} has no function name; set tools[{}].function.name to a non-empty string",
                index, index);
  }
  spec.name = name->get<std::string>();

  if (auto description = function->find("description");
      description != function->end() && description->is_string()) {
    spec.description = description->get<std::string>();
  }

  auto parameters = function->find("parameters");
  if (parameters == function->end() || parameters->is_null()) return spec;
  if (!parameters->is_object()) {
    throw_schema_error(index,
                       fmt::format("expected a JSON object, got {}", json_kind(*parameters)));
  }
  if (auto type = parameters->find("type"); type != parameters->end() && *type != "object") {
    throw_schema_error(index,
                       fmt::format("the top-level type must be \"object\", got {}", type->dump()));
  }
  check_subschema(*parameters, index, "the schema");

  spec.parameters = *parameters;
  const Json required = parameters->value("required", Json::array());
  if (auto properties = parameters->find("properties"); properties != parameters->end()) {
    for (const auto& [property_name, schema] : properties->items()) {
      spec.properties.push_back(parse_parameter(property_name, schema, required));
    }
  }
  return spec;
}

bool has_type(const Json& value, JsonType type) {
  switch (type) {
    case JsonType::kString:
      return value.is_string();
    case JsonType::kNumber:
      return value.is_number();
    case JsonType::kInteger: {
      if (value.is_number_integer()) return true;
      if (!value.is_number_float()) return false;
      const double number = value.get<double>();
      return std::isfinite(number) && number == std::floor(number);
    }
    case JsonType::kBoolean:
      return value.is_boolean();
    case JsonType::kNull:
      return value.is_null();
    case JsonType::kObject:
      return value.is_object();
    case JsonType::kArray:
      return value.is_array();
  }
  return false;
}

}  // namespace

const char* to_string(JsonType type) {
  switch (type) {
    case JsonType::kString:
      return "string";
    case JsonType::kNumber:
      return "number";
    case JsonType::kInteger:
      return "integer";
    case JsonType::kBoolean:
      return "boolean";
    case JsonType::kNull:
      return "null";
    case JsonType::kObject:
      return "object";
    case JsonType::kArray:
      return "array";
  }
  return "unknown";
}

const ToolParameter* ToolSpec::find_property(std::string_view property_name) const {
  for (const ToolParameter& property : properties) {
    if (property.name == property_name) return &property;
  }
  return nullptr;
}

std::vector<ToolSpec> parse_tools(const Json& tools) {
  std::vector<ToolSpec> specs;
  if (tools.is_null()) return specs;
  if (!tools.is_array()) {
    throw_error(ErrorKind::kInvalidRequest,
                "tools is a {}; expected an array of {{\"type\": \"function\", \"function\": "
                "{{...}}}} objects",
                json_kind(tools));
  }

  for (size_t index = 0; index < tools.size(); ++index) {
    ToolSpec spec = parse_tool(tools[index], index);
    for (size_t earlier = 0; earlier < specs.size(); ++earlier) {
      if (specs[earlier].name == spec.name) {
        throw_error(ErrorKind::kInvalidRequest,
                    "Tool {} function name '{}' is also the name of tool {}; tool names must be "
                    "unique",
                    index, spec.name, earlier);
      }
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

ToolChoice parse_tool_choice(const Json& tool_choice, const std::vector<ToolSpec>& tools) {
  ToolChoice choice;
  if (tool_choice.is_null()) {
    choice.mode = tools.empty() ? ToolChoiceMode::kNone : ToolChoiceMode::kAuto;
    return choice;
  }

  if (tool_choice.is_string()) {
    const auto& value = tool_choice.get_ref<const std::string&>();
    if (value == "none") {
      choice.mode = ToolChoiceMode::kNone;
    } else if (value == "auto") {
      choice.mode = ToolChoiceMode::kAuto;
    } else if (value == "required") {
      if (tools.empty()) {
        throw_error(ErrorKind::kInvalidRequest,
                    "Tools cannot be empty if tool choice is set to required.");
      }
      choice.mode = ToolChoiceMode::kRequired;
    } else {
      throw_error(ErrorKind::kInvalidRequest,
                  "tool_choice {} is invalid; expected \"none\", \"auto\", \"required\" or "
                  "{{\"type\": \"function\", \"function\": {{\"name\": ...}}}}",
                  tool_choice.dump());
    }
    return choice;
  }

  const Json* name = nullptr;
  if (tool_choice.is_object() && tool_choice.value("type", Json("function")) == "function") {
    auto function = tool_choice.find("function");
    if (function != tool_choice.end() && function->is_object()) {
      auto found = function->find("name");
      if (found != function->end() && found->is_string()) name = &*found;
    }
  }
  if (name == nullptr) {
    throw_error(ErrorKind::kInvalidRequest,
                "tool_choice {} is invalid; expected \"none\", \"auto\", \"required\" or "
                "{{\"type\": \"function\", \"function\": {{\"name\": ...}}}}",
                tool_choice.dump());
  }
  if (tools.empty()) {
    throw_error(ErrorKind::kInvalidRequest,
                "Tools cannot be empty if tool choice is set to a specific tool.");
  }
  choice.mode = ToolChoiceMode::kNamed;
  choice.name = name->get<std::string>();
  const bool found = std::any_of(tools.begin(), tools.end(),
                                 [&](const ToolSpec& tool) { return tool.name == choice.name; });
  if (!found) {
    throw_error(ErrorKind::kInvalidRequest, "Tool '{}' not found in tools list.", choice.name);
  }
  return choice;
}

std::vector<ToolSpec> tools_for_choice(const std::vector<ToolSpec>& tools,
                                       const ToolChoice& choice) {
  switch (choice.mode) {
    case ToolChoiceMode::kNone:
      return {};
    case ToolChoiceMode::kNamed: {
      std::vector<ToolSpec> selected;
      for (const ToolSpec& tool : tools) {
        if (tool.name == choice.name) selected.push_back(tool);
      }
      return selected;
    }
    case ToolChoiceMode::kAuto:
    case ToolChoiceMode::kRequired:
      break;
  }
  return tools;
}

std::string format_argument_value(std::string_view text, const ToolParameter* parameter) {
  if (parameter != nullptr && parameter->is_string_only()) return quote_json_string(text);

  const Json parsed = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  const bool is_json = !parsed.is_discarded();
  if (parameter == nullptr || parameter->types.empty()) {
    return is_json ? dump_argument_json(parsed) : quote_json_string(text);
  }

  if (is_json) {
    for (JsonType type : parameter->types) {
      if (type != JsonType::kString && has_type(parsed, type)) return dump_argument_json(parsed);
    }
  }
  if (parameter->types.back() == JsonType::kString) return quote_json_string(text);
  return is_json ? dump_argument_json(parsed) : quote_json_string(text);
}

}  // namespace glyph::chat
