package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/canhgac/canhgac/console/auth"
	"github.com/canhgac/canhgac/i18n"
)

// userPasswordEnv, when set, is the password of the account that users add
// or users password writes, so a script can set a known secret without
// it appearing on the command line.
const userPasswordEnv = "CANHGAC_USER_PASSWORD"

// registerUsersFlags declares --config and --data, which locate the
// users file.
func (f *runFlags) registerUsersFlags(fs *flag.FlagSet, c *cli) {
	fs.StringVar(&f.config, "config", "", i18n.T(c.lang, "cli.run.flag.config"))
	fs.StringVar(&f.data, "data", "", i18n.T(c.lang, "cli.run.flag.data"))
}

// openUsersFile opens DATA/users.json, the accounts file that run and
// console read and reload when it changes.
func openUsersFile(f runFlags) (*auth.Users, error) {
	cfg, err := runConfig(f)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fail("cli.run.data_dir", cfg.DataDir, err)
	}
	path := filepath.Join(cfg.DataDir, "users.json")
	users, err := auth.OpenUsers(path)
	if err != nil {
		return nil, fail("cli.run.users", path, err)
	}
	return users, nil
}

// newPassword returns the password from CANHGAC_USER_PASSWORD, or a random
// one and true when the caller must show it.
func newPassword() (string, bool, error) {
	if p := os.Getenv(userPasswordEnv); p != "" {
		if len(p) < auth.MinPasswordLength {
			return "", false, fail("cli.users.password_short", userPasswordEnv, auth.MinPasswordLength)
		}
		return p, false, nil
	}
	return auth.RandomPassword(), true, nil
}

// printPassword shows a generated password once. A password from
// CANHGAC_USER_PASSWORD (show false) is not echoed.
func printPassword(c *cli, password string, show bool) {
	if show {
		fmt.Fprintln(c.stdout, i18n.T(c.lang, "cli.users.password_once", password))
	}
}

func usersAddCommand() *command {
	var f runFlags
	var role string
	return &command{
		name:    "users add",
		summary: "cli.users_add.summary",
		usage:   "cli.users_add.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			f.registerUsersFlags(fs, c)
			fs.StringVar(&role, "role", "analyst", i18n.T(c.lang, "cli.users.flag.role"))
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if len(args) != 1 {
				return &usageError{fail("cli.users.name_missing")}
			}
			name := args[0]
			r, err := auth.ParseRole(role)
			if err != nil {
				return &usageError{fail("cli.users.role_invalid", role)}
			}
			users, err := openUsersFile(f)
			if err != nil {
				return err
			}
			if _, ok := users.Get(name); ok {
				return fail("cli.users.exists", name)
			}
			password, show, err := newPassword()
			if err != nil {
				return err
			}
			if err := users.Add(name, r, password); err != nil {
				return fail("cli.users.add_failed", name, err)
			}
			fmt.Fprintln(c.stdout, i18n.T(c.lang, "cli.users.added", name, r.String(), users.Path()))
			printPassword(c, password, show)
			return nil
		},
	}
}

func usersPasswordCommand() *command {
	var f runFlags
	return &command{
		name:    "users password",
		summary: "cli.users_password.summary",
		usage:   "cli.users_password.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			f.registerUsersFlags(fs, c)
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if len(args) != 1 {
				return &usageError{fail("cli.users.name_missing")}
			}
			name := args[0]
			users, err := openUsersFile(f)
			if err != nil {
				return err
			}
			if _, ok := users.Get(name); !ok {
				return fail("cli.users.not_found", name)
			}
			password, show, err := newPassword()
			if err != nil {
				return err
			}
			if err := users.SetPassword(name, password); err != nil {
				return fail("cli.users.password_failed", name, err)
			}
			fmt.Fprintln(c.stdout, i18n.T(c.lang, "cli.users.password_set", name))
			printPassword(c, password, show)
			return nil
		},
	}
}

func usersListCommand() *command {
	var f runFlags
	return &command{
		name:    "users list",
		summary: "cli.users_list.summary",
		usage:   "cli.users_list.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			formatFlag(fs, c)
			f.registerUsersFlags(fs, c)
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			if len(args) > 0 {
				return &usageError{fail("cli.error.args_extra", fmt.Sprint(args))}
			}
			users, err := openUsersFile(f)
			if err != nil {
				return err
			}
			out := c.table(headers(c.lang, "cli.users.col.name", "cli.users.col.role", "cli.users.col.created")...)
			for _, u := range users.List() {
				created := u.CreatedAt.UTC().Format("2006-01-02 15:04:05Z")
				view := struct {
					Name    string `json:"name"`
					Role    string `json:"role"`
					Created string `json:"created_at"`
				}{u.Name, u.Role.String(), u.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")}
				if err := out.Row([]string{u.Name, u.Role.String(), created}, view); err != nil {
					return err
				}
			}
			return out.Flush()
		},
	}
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"cli.users_add.summary": {VI: "thêm tài khoản bảng điều khiển (admin, analyst hoặc auditor)", EN: "add a console account (admin, analyst or auditor)"},
		"cli.users_add.usage": {
			VI: "Cách dùng: canhgac users add [--role admin|analyst|auditor] [--data THƯ_MỤC] [--config TỆP] TÊN\n\nThêm tài khoản vào tệp người dùng (DATA/users.json) mà run và console đọc lại khi tệp thay đổi. Mật khẩu lấy từ biến CANHGAC_USER_PASSWORD, nếu không có thì được tạo ngẫu nhiên và in ra một lần. Vai trò: analyst (mặc định) xem và xử lý cảnh báo, auditor chỉ xem, admin toàn quyền.",
			EN: "Usage: canhgac users add [--role admin|analyst|auditor] [--data DIR] [--config FILE] NAME\n\nAdds an account to the users file (DATA/users.json), which run and console read again when it changes. The password comes from the CANHGAC_USER_PASSWORD variable, or is random and printed once. Roles: analyst (default) views and triages alerts, auditor only views, admin may do everything.",
		},
		"cli.users_password.summary": {VI: "đặt mật khẩu mới cho một tài khoản", EN: "set a new password for an account"},
		"cli.users_password.usage": {
			VI: "Cách dùng: canhgac users password [--data THƯ_MỤC] [--config TỆP] TÊN\n\nĐặt mật khẩu mới: lấy từ biến CANHGAC_USER_PASSWORD, nếu không có thì tạo ngẫu nhiên và in ra một lần.",
			EN: "Usage: canhgac users password [--data DIR] [--config FILE] NAME\n\nSets a new password: from the CANHGAC_USER_PASSWORD variable, or random and printed once.",
		},
		"cli.users_list.summary": {VI: "liệt kê tài khoản bảng điều khiển", EN: "list console accounts"},
		"cli.users_list.usage": {
			VI: "Cách dùng: canhgac users list [--data THƯ_MỤC] [--config TỆP] [--format table|json|csv]",
			EN: "Usage: canhgac users list [--data DIR] [--config FILE] [--format table|json|csv]",
		},
		"cli.users.flag.role": {VI: "vai trò của tài khoản: admin, analyst hoặc auditor", EN: "role of the account: admin, analyst or auditor"},
		"cli.users.name_missing": {
			VI: "thiếu tên tài khoản: cho đúng một TÊN, ví dụ canhgac users add --role analyst nguyenvana",
			EN: "missing account name: give exactly one NAME, for example canhgac users add --role analyst nguyenvana",
		},
		"cli.users.role_invalid": {
			VI: "vai trò %q không hợp lệ: dùng admin, analyst hoặc auditor",
			EN: "invalid role %q: use admin, analyst or auditor",
		},
		"cli.users.exists": {
			VI: "tài khoản %q đã tồn tại; dùng canhgac users password để đặt mật khẩu mới",
			EN: "account %q already exists; use canhgac users password to set a new password",
		},
		"cli.users.not_found": {
			VI: "không tìm thấy tài khoản %q; xem danh sách bằng canhgac users list",
			EN: "account %q not found; see the accounts with canhgac users list",
		},
		"cli.users.password_short": {
			VI: "mật khẩu trong %s quá ngắn: dùng ít nhất %d ký tự",
			EN: "the password in %s is too short: use at least %d characters",
		},
		"cli.users.add_failed":      {VI: "không thêm được tài khoản %q: %v", EN: "cannot add account %q: %v"},
		"cli.users.password_failed": {VI: "không đặt được mật khẩu cho %q: %v", EN: "cannot set the password of %q: %v"},
		"cli.users.added":           {VI: "Đã thêm tài khoản %s (vai trò %s) vào %s.", EN: "Added account %s (role %s) to %s."},
		"cli.users.password_set":    {VI: "Đã đặt mật khẩu mới cho %s.", EN: "Set a new password for %s."},
		"cli.users.password_once": {
			VI: "Mật khẩu (chỉ hiện một lần, hãy chuyển cho người dùng qua kênh an toàn): %s",
			EN: "Password (shown once; pass it to the user over a safe channel): %s",
		},
		"cli.users.col.name":    {VI: "TÊN", EN: "NAME"},
		"cli.users.col.role":    {VI: "VAI TRÒ", EN: "ROLE"},
		"cli.users.col.created": {VI: "TẠO LÚC", EN: "CREATED"},
	})
}
