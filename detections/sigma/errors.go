package sigma

import (
	"github.com/canhgac/canhgac/i18n"
)

// Error is a load or compile error shown to users, for example in the
// output of `rules check`. Key is a message catalog key starting with
// "sigma."; Args are its format arguments. Error() returns the English text.
type Error struct {
	Key  string
	Args []any
}

func newError(key string, args ...any) *Error {
	return &Error{Key: key, Args: args}
}

// Error returns the English message.
func (e *Error) Error() string { return e.Message(i18n.EN) }

// Message returns the message in lang. Arguments that are themselves
// *Error values are rendered in the same language.
func (e *Error) Message(lang i18n.Lang) string {
	return i18n.T(lang, e.Key, e.localArgs(lang)...)
}

// phrase is a catalog text used as an argument of another message, such
// as the expected type in "field %q must be %v".
func phrase(key string) *Error { return newError(key) }

// inField prefixes an error with the search identifier and field it was
// found in, keeping the inner key for the detail.
func inField(search, field string, err *Error) *Error {
	return newError("sigma.err.in_field", search, field, err)
}

// localized lets a nested *Error render in the language of its parent.
type localized struct {
	err  *Error
	lang i18n.Lang
}

func (l localized) String() string { return l.err.Message(l.lang) }

func (e *Error) localArgs(lang i18n.Lang) []any {
	out := make([]any, len(e.Args))
	for i, a := range e.Args {
		if inner, ok := a.(*Error); ok {
			out[i] = localized{inner, lang}
			continue
		}
		out[i] = a
	}
	return out
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"sigma.err.in_field": {
			VI: "định danh tìm kiếm %q, trường %q: %v",
			EN: "search identifier %q, field %q: %v",
		},
		"sigma.err.yaml": {
			VI: "YAML không hợp lệ: %v",
			EN: "invalid YAML: %v",
		},
		"sigma.err.read": {
			VI: "không đọc được tệp: %v",
			EN: "cannot read file: %v",
		},
		"sigma.err.not_mapping": {
			VI: "tài liệu không phải một ánh xạ YAML (khóa: giá trị); một quy tắc Sigma bắt đầu bằng title:, logsource: và detection:",
			EN: "document is not a YAML mapping (key: value); a Sigma rule starts with title:, logsource: and detection:",
		},
		"sigma.err.missing": {
			VI: "thiếu trường bắt buộc %q",
			EN: "missing required field %q",
		},
		"sigma.err.field_type": {
			VI: "trường %q phải là %v",
			EN: "field %q must be %v",
		},
		"sigma.err.duplicate_id": {
			VI: "mã quy tắc %q đã được dùng bởi quy tắc trong %s; mỗi quy tắc cần một id riêng",
			EN: "rule id %q is already used by a rule in %s; every rule needs its own id",
		},
		"sigma.err.action": {
			VI: "action %q không được hỗ trợ; dùng global, reset hoặc repeat",
			EN: "action %q is not supported; use global, reset or repeat",
		},
		"sigma.err.repeat_first": {
			VI: "action: repeat đứng trước mọi quy tắc; nó lặp lại tài liệu ngay trước nó",
			EN: "action: repeat comes before any rule; it repeats the document right before it",
		},
		"sigma.err.no_condition": {
			VI: "detection thiếu condition",
			EN: "detection has no condition",
		},
		"sigma.err.no_search": {
			VI: "detection không có định danh tìm kiếm nào ngoài condition",
			EN: "detection has no search identifier besides condition",
		},
		"sigma.err.search_shape": {
			VI: "định danh tìm kiếm %q phải là một ánh xạ, một danh sách ánh xạ hoặc một danh sách giá trị (từ khóa), nhận được %v",
			EN: "search identifier %q must be a map, a list of maps or a list of values (keywords), got %v",
		},
		"sigma.err.value_shape": {
			VI: "giá trị phải là một giá trị đơn hoặc danh sách giá trị đơn, nhận được %v",
			EN: "value must be a scalar or a list of scalars, got %v",
		},
		"sigma.err.modifier_unknown": {
			VI: "bộ sửa đổi %q không được hỗ trợ",
			EN: "modifier %q is not supported",
		},
		"sigma.err.modifier_conflict": {
			VI: "bộ sửa đổi %q không kết hợp được với %q",
			EN: "modifier %q cannot be combined with %q",
		},
		"sigma.err.modifier_needs": {
			VI: "bộ sửa đổi %q cần %v",
			EN: "modifier %q requires %v",
		},
		"sigma.err.modifier_value": {
			VI: "bộ sửa đổi %q: giá trị %q không hợp lệ, cần %v",
			EN: "modifier %q: invalid value %q, expected %v",
		},
		"sigma.err.regex": {
			VI: "biểu thức chính quy %q không được bộ máy RE2 hỗ trợ (%v); viết lại không dùng lookaround hoặc backreference",
			EN: "regular expression %q is not supported by the RE2 engine (%v); rewrite it without lookaround or backreferences",
		},
		"sigma.err.wildcard_encode": {
			VI: "giá trị %q có ký tự đại diện nên không mã hóa được bằng %q; thoát * và ? bằng \\ hoặc bỏ chúng",
			EN: "value %q contains wildcards, which %q cannot encode; escape * and ? with \\ or remove them",
		},
		"sigma.err.expansion_limit": {
			VI: "giá trị %q sinh ra %d biến thể, vượt giới hạn %d",
			EN: "value %q expands to %d variants, more than the limit of %d",
		},
		"sigma.err.placeholder": {
			VI: "placeholder %%%s%% không có giá trị trong cấu hình placeholder; thêm nó vào tệp cấu hình placeholder",
			EN: "placeholder %%%s%% has no values in the placeholder configuration; add it to the placeholder file",
		},
		"sigma.err.keyword_modifier": {
			VI: "bộ sửa đổi %q không dùng được cho tìm kiếm từ khóa",
			EN: "modifier %q cannot be used on a keyword search",
		},
		"sigma.err.all_single": {
			VI: "bộ sửa đổi all cần một danh sách từ hai giá trị trở lên; với một giá trị hãy bỏ all",
			EN: "modifier all needs a list of two or more values; drop all for a single value",
		},
		"sigma.err.empty_list": {
			VI: "danh sách giá trị rỗng",
			EN: "empty list of values",
		},
		"sigma.err.filter_rules": {
			VI: "filter.rules phải là any, all, một id hoặc name của quy tắc, hoặc một danh sách chúng",
			EN: "filter.rules must be any, all, a rule id or name, or a list of them",
		},
		"sigma.err.filter_condition": {
			VI: "filter cần đúng một condition dạng chuỗi",
			EN: "filter needs exactly one condition, written as a string",
		},
		"sigma.note.filter_unmatched": {
			VI: "filter nhắc tới quy tắc %q nhưng không có quy tắc nào được nạp với id hoặc name này và logsource phù hợp",
			EN: "filter references rule %q, but no loaded rule with a matching logsource has this id or name",
		},
		"sigma.err.cond_syntax": {
			VI: "condition %q, vị trí %d: %s",
			EN: "condition %q, position %d: %s",
		},
		"sigma.err.cond_unknown_ident": {
			VI: "condition nhắc tới định danh tìm kiếm %q không có trong detection",
			EN: "condition references search identifier %q, which detection does not define",
		},
		"sigma.err.cond_pattern_empty": {
			VI: "mẫu %q trong condition không khớp định danh tìm kiếm nào",
			EN: "pattern %q in condition matches no search identifier",
		},
		"sigma.err.cond_aggregation": {
			VI: "condition dùng phép gộp kiểu Sigma v1 (%q); viết lại thành một quy tắc tương quan (correlation)",
			EN: "condition uses a Sigma v1 aggregation (%q); rewrite it as a correlation rule",
		},
		"sigma.err.cond_count": {
			VI: "%q không được hỗ trợ; Sigma cho phép \"1 of\" và \"all of\"",
			EN: "%q is not supported; Sigma allows \"1 of\" and \"all of\"",
		},
		"sigma.err.corr_type": {
			VI: "loại tương quan %q không được hỗ trợ; dùng event_count, value_count, temporal hoặc temporal_ordered",
			EN: "correlation type %q is not supported; use event_count, value_count, temporal or temporal_ordered",
		},
		"sigma.err.corr_rule": {
			VI: "tương quan nhắc tới quy tắc %q nhưng không có quy tắc nào được nạp với id hoặc name này",
			EN: "correlation references rule %q, but no loaded rule has this id or name",
		},
		"sigma.err.corr_rule_rejected": {
			VI: "tương quan nhắc tới quy tắc %q đã bị từ chối",
			EN: "correlation references rule %q, which was rejected",
		},
		"sigma.err.corr_cycle": {
			VI: "tương quan tạo thành vòng lặp qua %q",
			EN: "correlations form a cycle through %q",
		},
		"sigma.err.timespan": {
			VI: "timespan %q không hợp lệ; cần một số nguyên dương theo sau bởi s, m, h, d hoặc w (ví dụ 5m)",
			EN: "invalid timespan %q; expected a positive integer followed by s, m, h, d or w (for example 5m)",
		},
		"sigma.err.corr_condition_map": {
			VI: "condition của tương quan phải là một ánh xạ, ví dụ {gte: 10}",
			EN: "correlation condition must be a map such as {gte: 10}",
		},
		"sigma.err.corr_condition_int": {
			VI: "condition của tương quan: %s có giá trị %q không phải số nguyên",
			EN: "correlation condition: %s has the value %q, which is not an integer",
		},
		"sigma.err.corr_condition_key": {
			VI: "condition của tương quan có khóa lạ %q; dùng gt, gte, lt, lte, eq, neq và field",
			EN: "correlation condition has the unknown key %q; use gt, gte, lt, lte, eq, neq and field",
		},
		"sigma.err.corr_condition_empty": {
			VI: "condition của tương quan không có phép so sánh nào (gt, gte, lt, lte, eq, neq)",
			EN: "correlation condition has no comparison (gt, gte, lt, lte, eq, neq)",
		},
		"sigma.err.corr_field": {
			VI: "value_count cần condition.field (trường có giá trị khác nhau được đếm)",
			EN: "value_count requires condition.field (the field whose distinct values are counted)",
		},
		"sigma.err.corr_temporal_rules": {
			VI: "%s cần ít nhất hai quy tắc trong rules",
			EN: "%s requires at least two rules in rules",
		},
		"sigma.err.alias": {
			VI: "bí danh %q phải ánh xạ id hoặc name của quy tắc sang tên trường",
			EN: "alias %q must map rule ids or names to field names",
		},
		"sigma.err.config": {
			VI: "tệp cấu hình %s không hợp lệ: %v",
			EN: "invalid configuration file %s: %v",
		},
		"sigma.err.config_entry": {
			VI: "tệp cấu hình %s không hợp lệ: mỗi mục cần một logsource có product, category hoặc service, và ít nhất một route",
			EN: "invalid configuration file %s: every entry needs a logsource with product, category or service, and at least one route",
		},
		"sigma.err.config_route": {
			VI: "tệp cấu hình %s không hợp lệ: một route của logsource %s thiếu dataset",
			EN: "invalid configuration file %s: a route of logsource %s has no dataset",
		},
		"sigma.err.config_placeholder": {
			VI: "tệp placeholder %s không hợp lệ: placeholder %s cần một danh sách giá trị hoặc {file: đường_dẫn}",
			EN: "invalid placeholder file %s: placeholder %s needs a list of values or {file: path}",
		},
		"sigma.err.config_placeholder_file": {
			VI: "tệp placeholder %s: không đọc được tệp giá trị của placeholder %s: %v",
			EN: "placeholder file %s: cannot read the value file of placeholder %s: %v",
		},
		"sigma.note.route_convention": {
			VI: "logsource %s không có trong bảng định tuyến; quy tắc chỉ nhận sự kiện có event.dataset %s",
			EN: "logsource %s is not in the routing table; the rule only sees events with event.dataset %s",
		},
	})
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"sigma.phrase.string":         {VI: "một chuỗi", EN: "a string"},
		"sigma.phrase.string_list":    {VI: "một chuỗi hoặc một danh sách chuỗi", EN: "a string or a list of strings"},
		"sigma.phrase.map":            {VI: "một ánh xạ", EN: "a map"},
		"sigma.phrase.list":           {VI: "một danh sách", EN: "a list"},
		"sigma.phrase.scalar":         {VI: "giá trị đơn %q", EN: "the scalar %q"},
		"sigma.phrase.alias":          {VI: "một bí danh YAML", EN: "a YAML alias"},
		"sigma.phrase.empty_node":     {VI: "một nút rỗng", EN: "an empty node"},
		"sigma.phrase.empty_list":     {VI: "một danh sách rỗng", EN: "an empty list"},
		"sigma.phrase.mixed_list":     {VI: "một danh sách lẫn ánh xạ và giá trị", EN: "a list that mixes maps and values"},
		"sigma.phrase.rule_refs":      {VI: "một danh sách id hoặc name của quy tắc", EN: "a list of rule ids or names"},
		"sigma.phrase.field_list":     {VI: "một danh sách tên trường", EN: "a list of field names"},
		"sigma.phrase.bool":           {VI: "true hoặc false", EN: "true or false"},
		"sigma.phrase.number":         {VI: "một số", EN: "a number"},
		"sigma.phrase.network":        {VI: "một dải mạng IPv4 hoặc IPv6, ví dụ 10.0.0.0/8 hoặc fd00::/8", EN: "an IPv4 or IPv6 network such as 10.0.0.0/8 or fd00::/8"},
		"sigma.phrase.re_before":      {VI: "re đứng trước nó", EN: "re before it"},
		"sigma.phrase.before_encoder": {VI: "đứng trước base64 hoặc base64offset", EN: "to come before base64 or base64offset"},
		"sigma.phrase.encoder_after":  {VI: "base64 hoặc base64offset đứng sau nó", EN: "base64 or base64offset after it"},
		"sigma.cond.bad_char": {
			VI: "ký tự %q không hợp lệ",
			EN: "invalid character %q",
		},
		"sigma.cond.unexpected": {
			VI: "gặp %q trong khi cần %v",
			EN: "unexpected %q, expected %v",
		},
		"sigma.cond.unexpected_end": {
			VI: "condition kết thúc trong khi cần %v",
			EN: "condition ends where %v is expected",
		},
		"sigma.cond.pattern_without_of": {
			VI: "mẫu %q chỉ dùng được sau \"1 of\" hoặc \"all of\"",
			EN: "pattern %q can only follow \"1 of\" or \"all of\"",
		},
		"sigma.cond.expect.operator": {
			VI: "and, or hoặc kết thúc condition",
			EN: "and, or or the end of the condition",
		},
		"sigma.cond.expect.operand": {
			VI: "một định danh tìm kiếm, not, (, 1 of hoặc all of",
			EN: "a search identifier, not, (, 1 of or all of",
		},
		"sigma.cond.expect.close": {
			VI: "dấu )",
			EN: "a closing )",
		},
		"sigma.cond.expect.of": {
			VI: "từ khóa of",
			EN: "the keyword of",
		},
		"sigma.cond.expect.of_target": {
			VI: "một mẫu định danh tìm kiếm hoặc them",
			EN: "a search identifier pattern or them",
		},
	})
}
