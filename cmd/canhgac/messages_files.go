package main

import "github.com/canhgac/canhgac/i18n"

// Messages of the offline commands: hunt, rules check and pcap summary.
func init() {
	i18n.Register(map[string]i18n.Message{
		"cli.hunt.summary": {
			VI: "săn tìm ngoại tuyến: chạy quy tắc phát hiện Sigma trên tệp nhật ký, tệp sự kiện JSON, tệp EVTX và tệp pcap",
			EN: "offline hunt: run Sigma detection rules over log files, JSON event files, EVTX files and pcap files",
		},
		"cli.hunt.usage": {
			VI: "Cách dùng: canhgac hunt [--rules ĐƯỜNG_DẪN[,ĐƯỜNG_DẪN]] [--format table|json|csv] ĐƯỜNG_DẪN...\n\n" +
				"Đọc các tệp (hoặc mọi tệp trong thư mục) — nhật ký syslog, sshd, auditd, nginx/Apache, JSON (ECS,\n" +
				"Winlogbeat, evtx_dump), EVTX của Windows và pcap/pcapng — rồi chạy cùng bộ máy phát hiện như đường ống trực tiếp.\n" +
				"Mỗi phát hiện in ra: thời gian, mức độ, quy tắc, các trường chính, tệp nguồn và vị trí.\n" +
				"Không có --rules thì dùng bộ quy tắc đi kèm; --rules nhận tệp hoặc thư mục quy tắc.",
			EN: "Usage: canhgac hunt [--rules PATH[,PATH]] [--format table|json|csv] PATH...\n\n" +
				"Reads the files (or every file in a folder) — syslog, sshd, auditd, nginx/Apache logs, JSON (ECS,\n" +
				"Winlogbeat, evtx_dump), Windows EVTX and pcap/pcapng — and runs the same detection engine as the live pipeline.\n" +
				"Each detection prints its time, level, rule, key fields, source file and position.\n" +
				"Without --rules the bundled rule pack is used; --rules takes rule files or folders.",
		},
		"cli.flag.rules": {
			VI: "tệp hoặc thư mục quy tắc Sigma, cách nhau bởi dấu phẩy (thay cho bộ quy tắc đi kèm)",
			EN: "Sigma rule files or folders, comma-separated (replaces the bundled rule pack)",
		},
		"cli.flag.placeholders": {
			VI: "tệp YAML chứa giá trị cho các %placeholder% trong quy tắc (danh sách IOC, người dùng được phép sudo…)",
			EN: "YAML file with values for the rules' %placeholders% (IOC lists, users allowed to sudo, …)",
		},
		"cli.flag.no_bundled": {
			VI: "không nạp bộ quy tắc đi kèm",
			EN: "do not load the bundled rule pack",
		},
		"cli.flag.log_format": {
			VI: "định dạng của tệp văn bản: auto, syslog, access, apache_error, nginx_error, auditd hoặc json",
			EN: "format of text files: auto, syslog, access, apache_error, nginx_error, auditd or json",
		},
		"cli.hunt.col.time":    {VI: "THỜI GIAN", EN: "TIME"},
		"cli.hunt.col.level":   {VI: "MỨC ĐỘ", EN: "LEVEL"},
		"cli.hunt.col.rule":    {VI: "QUY TẮC", EN: "RULE"},
		"cli.hunt.col.rule_id": {VI: "MÃ QUY TẮC", EN: "RULE ID"},
		"cli.hunt.col.fields":  {VI: "TRƯỜNG CHÍNH", EN: "KEY FIELDS"},
		"cli.hunt.col.source":  {VI: "NGUỒN", EN: "SOURCE"},
		"cli.hunt.input_missing": {
			VI: "không đọc được %s: %v — kiểm tra đường dẫn và quyền đọc",
			EN: "cannot read %s: %v — check the path and read permission",
		},
		"cli.hunt.read_failed": {
			VI: "đọc %s thất bại: %v",
			EN: "reading %s failed: %v",
		},
		"cli.hunt.skipped": {
			VI: "bỏ qua %d tệp không phải nhật ký trong thư mục (.md, .csv, .yml, .yaml, .golden, .rules); chỉ định trực tiếp nếu muốn đọc",
			EN: "left out %d files in the folders that are not logs (.md, .csv, .yml, .yaml, .golden, .rules); name one directly to read it",
		},
		"cli.hunt.skip_unsupported": {VI: "bỏ qua: ", EN: "left out: "},
		"cli.hunt.binary": {
			VI: "%s không phải tệp nhật ký, tệp JSON hay tệp pcap/pcapng (có byte NUL ở phần đầu): kiểm tra lại đường dẫn",
			EN: "%s is not a log, JSON or pcap/pcapng file (it has NUL bytes near its start): check the path",
		},
		"cli.hunt.done": {
			VI: "xong: %d tệp, %d sự kiện, %d đầu vào không phân tích được, %d phát hiện",
			EN: "done: %d files, %d events, %d unparseable inputs, %d detections",
		},

		"cli.rules_check.summary": {
			VI: "kiểm tra quy tắc phát hiện: quy tắc nào nạp được, quy tắc nào bị từ chối và vì sao",
			EN: "check detection rules: which load, which are rejected and why",
		},
		"cli.rules_check.usage": {
			VI: "Cách dùng: canhgac rules check [--format table|json|csv] [--placeholders TỆP] ĐƯỜNG_DẪN...\n\nNạp các tệp hoặc thư mục quy tắc Sigma và báo cáo số quy tắc nạp được và từng quy tắc bị từ chối kèm lý do.\nCác %placeholder% lấy giá trị mặc định của bộ quy tắc đi kèm, --placeholders ghi đè.\nMã thoát là 1 khi có quy tắc bị từ chối, nên lệnh dùng được làm bước kiểm tra trong CI.",
			EN: "Usage: canhgac rules check [--format table|json|csv] [--placeholders FILE] PATH...\n\nLoads Sigma rule files or folders and reports how many rules load and each rejected rule with the reason.\n%placeholders% take the bundled pack's default values; --placeholders overrides them.\nThe exit status is 1 when a rule is rejected, so the command works as a CI check.",
		},
		"cli.rules_test.summary": {
			VI: "thử một quy tắc trên các tệp: sự kiện nào khớp và vì sao (lựa chọn, trường, bộ sửa đổi, giá trị)",
			EN: "try a rule on files: which events match and why (selection, field, modifiers, value)",
		},
		"cli.rules_test.usage": {
			VI: "Cách dùng: canhgac rules test [--format table|json|csv] QUY_TẮC.yml TỆP...\n\nNạp một tệp quy tắc Sigma (có thể gồm quy tắc tương quan), đọc các tệp nhật ký, JSON hoặc pcap\nvà in từng lần khớp: thời gian, quy tắc, vị trí trong tệp và phần của quy tắc đã khớp.",
			EN: "Usage: canhgac rules test [--format table|json|csv] RULE.yml FILE...\n\nLoads one Sigma rule file (correlations included), reads the log, JSON or pcap files\nand prints each match: time, rule, position in the file and the part of the rule that matched.",
		},
		"cli.rules_test.col.why": {VI: "VÌ SAO KHỚP", EN: "WHY IT MATCHED"},
		"cli.rules_test.done": {
			VI: "%d lần khớp trong %d tệp",
			EN: "%d matches in %d files",
		},
		"cli.rules.col.path":   {VI: "TỆP", EN: "FILE"},
		"cli.rules.col.id":     {VI: "MÃ", EN: "ID"},
		"cli.rules.col.reason": {VI: "LÝ DO", EN: "REASON"},
		"cli.rules.summary_line": {
			VI: "%d quy tắc nạp được, %d bị từ chối",
			EN: "%d rules loaded, %d rejected",
		},
		"cli.rules.rejected": {
			VI: "quy tắc bị từ chối: %s (%s): %s",
			EN: "rule rejected: %s (%s): %s",
		},
		"cli.rules.bundled_failed": {
			VI: "không nạp được bộ quy tắc đi kèm: %v",
			EN: "loading the bundled rule pack failed: %v",
		},
		"cli.rules.load_failed": {
			VI: "không nạp được quy tắc: %v",
			EN: "loading rules failed: %v",
		},
		"cli.rules.placeholders_failed": {
			VI: "không đọc được tệp placeholder %s: %v",
			EN: "cannot read the placeholder file %s: %v",
		},
		"cli.rules.none_loaded": {
			VI: "không có quy tắc nào được nạp: kiểm tra --rules bằng \"canhgac rules check\"",
			EN: "no rule loaded: check --rules with \"canhgac rules check\"",
		},

		"cli.pcap.summary": {
			VI: "tóm tắt một tệp pcap/pcapng: gói tin, luồng, truy vấn DNS, TLS ClientHello, yêu cầu HTTP, banner SSH",
			EN: "summarize a pcap/pcapng file: packets, flows, DNS queries, TLS ClientHellos, HTTP requests, SSH banners",
		},
		"cli.pcap.usage": {
			VI: "Cách dùng: canhgac pcap summary [--format json|table] TỆP\n\nGiải mã mọi gói tin của tệp và in số gói, số byte, lỗi giải mã, số luồng cùng siêu dữ liệu ứng dụng.",
			EN: "Usage: canhgac pcap summary [--format json|table] FILE\n\nDecodes every packet of the file and prints the packet, byte, decode-error and flow counts with the application metadata.",
		},
		"cli.pcap.packets":        {VI: "Gói tin", EN: "Packets"},
		"cli.pcap.bytes":          {VI: "Byte", EN: "Bytes"},
		"cli.pcap.decode_errors":  {VI: "Lỗi giải mã", EN: "Decode errors"},
		"cli.pcap.flows":          {VI: "Luồng", EN: "Flows"},
		"cli.pcap.dns":            {VI: "Truy vấn DNS", EN: "DNS queries"},
		"cli.pcap.tls":            {VI: "TLS ClientHello", EN: "TLS ClientHellos"},
		"cli.pcap.http":           {VI: "Yêu cầu HTTP", EN: "HTTP requests"},
		"cli.pcap.ssh":            {VI: "Banner SSH", EN: "SSH banners"},
		"cli.pcap.col.packet":     {VI: "GÓI #", EN: "PACKET #"},
		"cli.pcap.col.client":     {VI: "MÁY KHÁCH", EN: "CLIENT"},
		"cli.pcap.col.server":     {VI: "MÁY CHỦ", EN: "SERVER"},
		"cli.pcap.col.name":       {VI: "TÊN", EN: "NAME"},
		"cli.pcap.col.type":       {VI: "LOẠI", EN: "TYPE"},
		"cli.pcap.col.rcode":      {VI: "MÃ PHẢN HỒI", EN: "RCODE"},
		"cli.pcap.col.answers":    {VI: "TRẢ LỜI", EN: "ANSWERS"},
		"cli.pcap.col.sni":        {VI: "SNI", EN: "SNI"},
		"cli.pcap.col.version":    {VI: "PHIÊN BẢN", EN: "VERSION"},
		"cli.pcap.col.ja4":        {VI: "JA4", EN: "JA4"},
		"cli.pcap.col.method":     {VI: "PHƯƠNG THỨC", EN: "METHOD"},
		"cli.pcap.col.host":       {VI: "HOST", EN: "HOST"},
		"cli.pcap.col.path":       {VI: "ĐƯỜNG DẪN", EN: "PATH"},
		"cli.pcap.col.user_agent": {VI: "USER-AGENT", EN: "USER-AGENT"},
		"cli.pcap.col.role":       {VI: "VAI TRÒ", EN: "ROLE"},
		"cli.pcap.col.banner":     {VI: "BANNER", EN: "BANNER"},
		"cli.pcap.no_csv": {
			VI: "pcap summary không xuất được CSV vì bản tóm tắt gồm nhiều bảng khác cột: dùng --format json hoặc --format table",
			EN: "pcap summary has no CSV output because a summary is several tables with different columns: use --format json or --format table",
		},
		"cli.pcap.read_failed": {
			VI: "đọc tệp pcap %s thất bại: %v",
			EN: "reading pcap file %s failed: %v",
		},
	})
}
