package main

import "github.com/canhgac/canhgac/i18n"

func init() {
	i18n.Register(map[string]i18n.Message{
		"cli.overview": {
			VI: "canhgac — nền tảng giám sát an ninh (SOC/SIEM) và nhật ký kiểm toán của Trung tâm Dữ liệu Quốc gia.",
			EN: "canhgac — the security operations (SOC/SIEM) and audit platform of the National Data Center.",
		},
		"cli.overview.usage": {
			VI: "Cách dùng: canhgac LỆNH [cờ] [đối số]",
			EN: "Usage: canhgac COMMAND [flags] [arguments]",
		},
		"cli.overview.commands": {VI: "Các lệnh:", EN: "Commands:"},
		"cli.overview.more": {
			VI: "Chạy \"canhgac LỆNH --help\" để xem chi tiết một lệnh. Ngôn ngữ: --lang vi|en hoặc biến CANHGAC_LANG (mặc định: tiếng Việt).",
			EN: "Run \"canhgac COMMAND --help\" for details of a command. Language: --lang vi|en or the CANHGAC_LANG variable (default: Vietnamese).",
		},
		"cli.usage.flags":   {VI: "Cờ:", EN: "Flags:"},
		"cli.usage.value":   {VI: "GIÁ_TRỊ", EN: "VALUE"},
		"cli.usage.default": {VI: "mặc định:", EN: "default:"},
		"cli.flag.lang": {
			VI: "ngôn ngữ hiển thị: vi (tiếng Việt) hoặc en (tiếng Anh); cũng đặt được bằng biến CANHGAC_LANG; mặc định vi",
			EN: "display language: vi (Vietnamese) or en (English); the CANHGAC_LANG variable sets it too; default vi",
		},
		"cli.flag.format": {
			VI: "định dạng đầu ra: table (bảng), json (danh sách: mỗi dòng một đối tượng JSON) hoặc csv",
			EN: "output format: table, json (lists: one JSON object per line) or csv",
		},
		"cli.error.prefix":          {VI: "lỗi: ", EN: "error: "},
		"cli.error.lang":            {VI: "ngôn ngữ %q không được hỗ trợ: dùng --lang vi hoặc --lang en", EN: "unsupported language %q: use --lang vi or --lang en"},
		"cli.error.unknown_command": {VI: "không có lệnh %q. Các lệnh hiện có:", EN: "unknown command %q. The commands are:"},
		"cli.error.flags":           {VI: "cờ không hợp lệ: %s", EN: "invalid flag: %s"},
		"cli.error.format":          {VI: "định dạng %q không hợp lệ: dùng table, json hoặc csv", EN: "invalid format %q: use table, json or csv"},
		"cli.error.args_missing":    {VI: "thiếu đối số: %s", EN: "missing argument: %s"},
		"cli.error.args_extra":      {VI: "thừa đối số: %s", EN: "unexpected arguments: %s"},
		"cli.arg.path":              {VI: "ĐƯỜNG_DẪN", EN: "PATH"},
		"cli.arg.file":              {VI: "TỆP", EN: "FILE"},
		"cli.arg.id":                {VI: "MÃ", EN: "ID"},
		"cli.arg.rule_and_files":    {VI: "QUY_TẮC.yml TỆP...", EN: "RULE.yml FILE..."},

		"cli.version.summary": {VI: "in phiên bản của canhgac", EN: "print the canhgac version"},
		"cli.version.usage":   {VI: "Cách dùng: canhgac version", EN: "Usage: canhgac version"},
	})
}
