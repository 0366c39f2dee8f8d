package kql

import (
	"fmt"

	"github.com/canhgac/canhgac/i18n"
)

func init() {
	i18n.Register(map[string]i18n.Message{
		"kql.error.unexpected_char": {EN: "unexpected %q", VI: "ký tự %q không đúng chỗ"},
		"kql.error.unexpected_end":  {EN: "the query ends too early", VI: "truy vấn kết thúc quá sớm"},
		"kql.error.unclosed_quote":  {EN: "the quoted string is not closed", VI: "chuỗi trong ngoặc kép chưa được đóng"},
		"kql.error.unclosed_paren":  {EN: "the parenthesis is not closed", VI: "dấu ngoặc đơn chưa được đóng"},
		"kql.error.unmatched_paren": {EN: "')' has no matching '('", VI: "dấu ')' không có dấu '(' tương ứng"},
		"kql.error.missing_value":   {EN: "missing value after %q", VI: "thiếu giá trị sau %q"},
		"kql.error.missing_term":    {EN: "missing term after %q", VI: "thiếu điều kiện sau %q"},
		"kql.error.missing_operator": {EN: "%q is followed by ':' but contains a space, so two terms are missing 'and' or 'or' between them",
			VI: "%q đứng trước ':' nhưng chứa khoảng trắng, nên giữa hai điều kiện thiếu 'and' hoặc 'or'"},
		"kql.error.ambiguous_colon": {EN: "the value %q contains both ':' and a space", VI: "giá trị %q chứa cả ':' và khoảng trắng"},
		"kql.error.invalid_escape":  {EN: "invalid escape sequence %q", VI: "chuỗi thoát %q không hợp lệ"},
		"kql.error.nested":          {EN: "nested field queries with { } are not supported", VI: "chưa hỗ trợ truy vấn trường lồng nhau bằng { }"},
		"kql.error.invalid_ip":      {EN: "invalid IP address or CIDR range %q for field %s", VI: "địa chỉ IP hoặc dải CIDR %q không hợp lệ cho trường %s"},
		"kql.error.ip_wildcard":     {EN: "wildcards are not supported on IP field %s", VI: "trường IP %s không hỗ trợ ký tự đại diện *"},
		"kql.error.invalid_date":    {EN: "invalid date %q for field %s", VI: "ngày giờ %q không hợp lệ cho trường %s"},
		"kql.error.range_wildcard":  {EN: "a range value cannot contain wildcards: %q", VI: "giá trị so sánh khoảng không được chứa ký tự đại diện: %q"},
		"kql.error.field_quoted":    {EN: "a field name cannot be quoted", VI: "tên trường không được đặt trong ngoặc kép"},
		"kql.error.missing_field":   {EN: "missing field name before %q", VI: "thiếu tên trường trước %q"},
		"kql.at":                    {EN: "at column %d", VI: "tại cột %d"},
		"kql.hint.quote": {EN: "put the value in double quotes, or escape the character with a backslash",
			VI: "đặt giá trị trong ngoặc kép, hoặc thêm dấu \\ trước ký tự đó"},
		"kql.hint.operator": {EN: "join terms with and / or, for example: user.name:root and host.name:web1",
			VI: "nối các điều kiện bằng and / or, ví dụ: user.name:root and host.name:web1"},
		"kql.hint.close_quote": {EN: "add the closing \"", VI: "thêm dấu \" đóng"},
		"kql.hint.close_paren": {EN: "add the missing ')'", VI: "thêm dấu ')' còn thiếu"},
		"kql.hint.open_paren":  {EN: "remove the ')' or add the matching '('", VI: "bỏ dấu ')' hoặc thêm dấu '(' tương ứng"},
		"kql.hint.escape": {EN: `valid escapes are \\ \( \) \: \< \> \" \* \{ \} \t \n \r \uXXXX and escaped keywords such as \and`,
			VI: `các chuỗi thoát hợp lệ: \\ \( \) \: \< \> \" \* \{ \} \t \n \r \uXXXX và từ khóa thoát như \and`},
		"kql.hint.ip": {EN: "use an address such as 10.0.0.1 or 2001:db8::1, or a CIDR range such as 10.0.0.0/8",
			VI: "dùng địa chỉ như 10.0.0.1 hoặc 2001:db8::1, hoặc dải CIDR như 10.0.0.0/8"},
		"kql.hint.date": {EN: "use RFC 3339, such as 2024-05-01T12:00:00Z (quote it or escape the colons), or a date such as 2024-05-01",
			VI: "dùng RFC 3339, ví dụ 2024-05-01T12:00:00Z (đặt trong ngoặc kép hoặc thoát dấu hai chấm), hoặc ngày như 2024-05-01"},
		"kql.hint.value": {EN: "write a value after the colon, or field:* to test that the field exists",
			VI: "viết giá trị sau dấu hai chấm, hoặc field:* để kiểm tra trường có tồn tại"},
		"kql.hint.term": {EN: "write a condition such as user.name:root, or remove the operator",
			VI: "viết một điều kiện như user.name:root, hoặc bỏ toán tử"},
		"kql.hint.nested": {EN: "query the inner field by its dotted name, for example dns.question.name:example.com",
			VI: "truy vấn trường con bằng tên có dấu chấm, ví dụ dns.question.name:example.com"},
		"kql.hint.range": {EN: "compare with one exact value, for example event.severity >= 3",
			VI: "so sánh với một giá trị cụ thể, ví dụ event.severity >= 3"},
		"kql.hint.field": {EN: "write the field name unquoted, for example user.name:\"John Smith\"",
			VI: "viết tên trường không có ngoặc kép, ví dụ user.name:\"John Smith\""},
	})
}

// Error is a KQL syntax or value error. It carries a catalog key and the
// position, so the console and the CLI show it in the user's language.
type Error struct {
	// Offset is the byte offset of the problem in Query; Column is the same
	// place counted in characters from 1.
	Offset int
	Column int
	// Key is the catalog key of the message and Args its arguments; Hint
	// is the catalog key of the advice shown after it.
	Key   string
	Args  []any
	Hint  string
	Query string
}

// Error returns the message in English.
func (e *Error) Error() string { return "kql: " + e.Message(i18n.EN) }

// Message returns the message, position and hint in lang.
func (e *Error) Message(lang i18n.Lang) string {
	s := fmt.Sprintf("%s (%s)", i18n.T(lang, e.Key, e.Args...), i18n.T(lang, "kql.at", e.Column))
	if e.Hint != "" {
		s += ": " + i18n.T(lang, e.Hint)
	}
	return s
}
