package sigma

import (
	"path"
	"strings"
)

// condKind is the operator of a condition node.
type condKind uint8

const (
	condRef   condKind = iota // one search identifier
	condAnd                   // all children
	condOr                    // any child
	condNot                   // negation of the one child
	condOneOf                 // any of refs
	condAllOf                 // all of refs
)

// condNode is a node of a compiled condition. refs index the rule's
// searches for condRef, condOneOf and condAllOf.
type condNode struct {
	kind condKind
	kids []*condNode
	refs []int
}

type tokenKind uint8

const (
	tokIdent tokenKind = iota
	tokAnd
	tokOr
	tokNot
	tokOf
	tokThem
	tokNumber
	tokAll
	tokLParen
	tokRParen
	tokPipe
	tokEnd
)

type token struct {
	kind tokenKind
	text string
	pos  int // 1-based byte position in the condition
}

// tokenize splits a condition. Identifiers may contain letters, digits,
// '_', '-', '.' and the '*' wildcard of "1 of sel*".
func tokenize(cond string) ([]token, *Error) {
	var toks []token
	i := 0
	for i < len(cond) {
		c := cond[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{tokLParen, "(", i + 1})
			i++
		case c == ')':
			toks = append(toks, token{tokRParen, ")", i + 1})
			i++
		case c == '|':
			toks = append(toks, token{tokPipe, cond[i:], i + 1})
			i = len(cond)
		case isIdentByte(c):
			start := i
			for i < len(cond) && isIdentByte(cond[i]) {
				i++
			}
			word := cond[start:i]
			kind := tokIdent
			switch strings.ToLower(word) {
			case "and":
				kind = tokAnd
			case "or":
				kind = tokOr
			case "not":
				kind = tokNot
			case "of":
				kind = tokOf
			case "them":
				kind = tokThem
			case "all":
				kind = tokAll
			default:
				if isDigits(word) {
					kind = tokNumber
				}
			}
			toks = append(toks, token{kind, word, start + 1})
		default:
			return nil, condSyntax(cond, i+1, newError("sigma.cond.bad_char", string(rune(c))))
		}
	}
	toks = append(toks, token{tokEnd, "", len(cond) + 1})
	return toks, nil
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '-' || c == '.' || c == '*' || c >= 0x80
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func condSyntax(cond string, pos int, detail *Error) *Error {
	return newError("sigma.err.cond_syntax", cond, pos, detail)
}

// condParser is a recursive-descent parser over the grammar
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | quant | IDENT
//	quant   = ( "1" | "all" ) "of" ( PATTERN | "them" )
//
// so not binds tighter than and, and and tighter than or.
type condParser struct {
	cond     string
	toks     []token
	pos      int
	searches []string // search identifiers in detection order
}

// parseCondition compiles cond against the rule's search identifiers.
func parseCondition(cond string, searches []string) (*condNode, *Error) {
	toks, err := tokenize(cond)
	if err != nil {
		return nil, err
	}
	p := &condParser{cond: cond, toks: toks, searches: searches}
	n, err := p.expr()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEnd {
		return nil, p.unexpected(t, "sigma.cond.expect.operator")
	}
	return n, nil
}

func (p *condParser) peek() token { return p.toks[p.pos] }

func (p *condParser) next() token {
	t := p.toks[p.pos]
	if t.kind != tokEnd {
		p.pos++
	}
	return t
}

func (p *condParser) unexpected(t token, expectKey string) *Error {
	if t.kind == tokPipe {
		return newError("sigma.err.cond_aggregation", strings.TrimSpace(t.text))
	}
	if t.kind == tokEnd {
		return condSyntax(p.cond, t.pos, newError("sigma.cond.unexpected_end", newError(expectKey)))
	}
	return condSyntax(p.cond, t.pos, newError("sigma.cond.unexpected", t.text, newError(expectKey)))
}

func (p *condParser) expr() (*condNode, *Error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokOr {
		p.next()
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = joinNodes(condOr, left, right)
	}
	return left, nil
}

func (p *condParser) and() (*condNode, *Error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tokAnd {
		p.next()
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = joinNodes(condAnd, left, right)
	}
	return left, nil
}

// joinNodes flattens chains of the same operator into one node.
func joinNodes(kind condKind, left, right *condNode) *condNode {
	if left.kind == kind {
		left.kids = append(left.kids, right)
		return left
	}
	return &condNode{kind: kind, kids: []*condNode{left, right}}
}

func (p *condParser) unary() (*condNode, *Error) {
	if p.peek().kind == tokNot {
		p.next()
		kid, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &condNode{kind: condNot, kids: []*condNode{kid}}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (*condNode, *Error) {
	t := p.next()
	switch t.kind {
	case tokLParen:
		n, err := p.expr()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokRParen {
			return nil, p.unexpected(c, "sigma.cond.expect.close")
		}
		return n, nil
	case tokNumber, tokAll:
		if p.peek().kind != tokOf {
			if t.kind == tokNumber {
				// A search identifier may be all digits.
				return p.ref(t)
			}
			return nil, p.unexpected(p.peek(), "sigma.cond.expect.of")
		}
		if t.kind == tokNumber && t.text != "1" {
			return nil, newError("sigma.err.cond_count", t.text+" of")
		}
		p.next()
		return p.quantifier(t.kind == tokAll)
	case tokIdent:
		return p.ref(t)
	}
	return nil, p.unexpected(t, "sigma.cond.expect.operand")
}

func (p *condParser) ref(t token) (*condNode, *Error) {
	if strings.Contains(t.text, "*") {
		return nil, condSyntax(p.cond, t.pos, newError("sigma.cond.pattern_without_of", t.text))
	}
	for i, s := range p.searches {
		if s == t.text {
			return &condNode{kind: condRef, refs: []int{i}}, nil
		}
	}
	return nil, newError("sigma.err.cond_unknown_ident", t.text)
}

func (p *condParser) quantifier(all bool) (*condNode, *Error) {
	t := p.next()
	var refs []int
	switch t.kind {
	case tokThem:
		// Identifiers starting with '_' are left out of "them", as in
		// the reference implementation pySigma.
		for i, s := range p.searches {
			if !strings.HasPrefix(s, "_") {
				refs = append(refs, i)
			}
		}
	case tokIdent, tokNumber:
		for i, s := range p.searches {
			if ok, _ := path.Match(t.text, s); ok {
				refs = append(refs, i)
			}
		}
	default:
		return nil, p.unexpected(t, "sigma.cond.expect.of_target")
	}
	if len(refs) == 0 {
		return nil, newError("sigma.err.cond_pattern_empty", t.text)
	}
	kind := condOneOf
	if all {
		kind = condAllOf
	}
	return &condNode{kind: kind, refs: refs}, nil
}
