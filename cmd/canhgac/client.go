package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/canhgac/canhgac/i18n"
	"github.com/canhgac/canhgac/internal/atomicfile"
	"golang.org/x/term"
)

// defaultServer is the console address of `canhgac run` on its defaults.
const defaultServer = "http://127.0.0.1:8480"

// credentials is the server, user and token that `canhgac login` stores
// for the other API commands.
type credentials struct {
	Server string `json:"server"`
	User   string `json:"user"`
	Token  string `json:"token"`
}

// credentialsPath is $XDG_CONFIG_HOME/canhgac/credentials.json, or the same
// under ~/.config.
func credentialsPath() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "canhgac", "credentials.json"), nil
}

func loadCredentials() credentials {
	var cr credentials
	if path, err := credentialsPath(); err == nil {
		if data, err := os.ReadFile(path); err == nil {
			_ = json.Unmarshal(data, &cr)
		}
	}
	return cr
}

func saveCredentials(cr credentials) (string, error) {
	path, err := credentialsPath()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	data, _ := json.MarshalIndent(cr, "", "  ")
	return path, atomicfile.WriteFile(path, data, 0o600)
}

// apiClient calls the console's JSON API.
type apiClient struct {
	server string
	token  string
	lang   i18n.Lang
	http   *http.Client
}

// serverFlag declares --server on API commands.
func serverFlag(fs *flag.FlagSet, c *cli, server *string) {
	fs.StringVar(server, "server", "", i18n.T(c.lang, "cli.flag.server"))
}

// newAPIClient resolves the server and token: flag, then CANHGAC_SERVER and
// CANHGAC_TOKEN, then the stored login.
func newAPIClient(c *cli, server string) (*apiClient, error) {
	cr := loadCredentials()
	if server == "" {
		server = os.Getenv("CANHGAC_SERVER")
	}
	if server == "" {
		server = cr.Server
	}
	if server == "" {
		server = defaultServer
	}
	token := os.Getenv("CANHGAC_TOKEN")
	if token == "" && strings.TrimRight(cr.Server, "/") == strings.TrimRight(server, "/") {
		token = cr.Token
	}
	if _, err := url.ParseRequestURI(server); err != nil || !strings.HasPrefix(server, "http") {
		return nil, fail("cli.api.bad_server", server)
	}
	return &apiClient{server: strings.TrimRight(server, "/"), token: token, lang: c.lang, http: &http.Client{Timeout: 60 * time.Second}}, nil
}

// apiError is an error response of the console API; its message is
// already in the language the CLI asked for.
type apiError struct {
	Status  int
	Code    string
	Message string
}

func (e *apiError) Error() string { return e.Message }

// call sends a request and decodes the JSON response into out.
func (a *apiClient) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.server+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept-Language", string(a.lang))
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fail("cli.api.unreachable", a.server, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fail("cli.api.unreachable", a.server, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			if resp.StatusCode == http.StatusUnauthorized {
				return fail("cli.api.unauthorized", e.Error.Message)
			}
			return &apiError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
		}
		return fail("cli.api.status", resp.Status, a.server)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fail("cli.api.bad_answer", a.server, err)
	}
	return nil
}

func loginCommand() *command {
	var server, user string
	var passwordStdin bool
	return &command{
		name:    "login",
		summary: "cli.login.summary",
		usage:   "cli.login.usage",
		flags: func(fs *flag.FlagSet, c *cli) {
			serverFlag(fs, c, &server)
			fs.StringVar(&user, "user", "admin", i18n.T(c.lang, "cli.login.flag.user"))
			fs.BoolVar(&passwordStdin, "password-stdin", false, i18n.T(c.lang, "cli.login.flag.password_stdin"))
		},
		run: func(ctx context.Context, c *cli, args []string) error {
			a, err := newAPIClient(c, server)
			if err != nil {
				return err
			}
			password, err := readPassword(c, passwordStdin)
			if err != nil {
				return err
			}
			var resp struct {
				User    string    `json:"user"`
				Role    string    `json:"role"`
				Token   string    `json:"token"`
				Expires time.Time `json:"expires"`
			}
			a.token = ""
			if err := a.call(ctx, http.MethodPost, "/api/login", map[string]any{"user": user, "password": password, "bearer": true}, &resp); err != nil {
				return err
			}
			if resp.Token == "" {
				return fail("cli.api.bad_answer", a.server, errors.New("no token in the sign-in response"))
			}
			path, err := saveCredentials(credentials{Server: a.server, User: resp.User, Token: resp.Token})
			if err != nil {
				return fail("cli.login.save_failed", err)
			}
			fmt.Fprintln(c.stdout, i18n.T(c.lang, "cli.login.done", resp.User, resp.Role, a.server, resp.Expires.Local().Format(localTime), path))
			return nil
		},
	}
}

// readPassword takes the password from CANHGAC_PASSWORD, standard input
// (--password-stdin) or a prompt without echo on the terminal.
func readPassword(c *cli, fromStdin bool) (string, error) {
	if p := os.Getenv("CANHGAC_PASSWORD"); p != "" {
		return p, nil
	}
	if fromStdin {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", fail("cli.login.no_password")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", fail("cli.login.no_password")
	}
	fmt.Fprint(c.stderr, i18n.T(c.lang, "cli.login.prompt"))
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fail("cli.login.no_password")
	}
	return string(pw), nil
}
