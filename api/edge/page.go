package edge

import (
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// PageMeta is the "meta" of the wire contract's page envelope.
type PageMeta struct {
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	FirstPageURL    string  `json:"first_page_url"`
	PreviousPageURL *string `json:"previous_page_url"`
	NextPageURL     *string `json:"next_page_url"`
	URL             string  `json:"url"`
	Key             string  `json:"key"`
}

// PageBody is one page of a list.
type PageBody[U any] struct {
	Content []U      `json:"content"`
	Meta    PageMeta `json:"meta"`
}

// PageRequest reads PageSize and PageToken.
func PageRequest(c *gin.Context, prefix string, def, limit int) (domain.PageRequest, error) {
	size, err := domain.ParsePageSize(c.Query("PageSize"), def, limit)
	if err != nil {
		return domain.PageRequest{}, err
	}
	return domain.ParsePageToken(c.Query("PageToken"), prefix, size)
}

// Envelope renders one page with the links around it. Other query
// parameters (filters) are kept in every link.
func Envelope[T, U any](baseURL string, c *gin.Context, page domain.Page[T], sidOf func(T) string, render func(T) U) PageBody[U] {
	link := func(token string) string {
		q := url.Values{}
		for k, v := range c.Request.URL.Query() {
			if k != "PageToken" && k != "PageSize" {
				q[k] = v
			}
		}
		q.Set("PageSize", strconv.Itoa(page.Size))
		if token != "" {
			q.Set("PageToken", token)
		}
		return baseURL + c.Request.URL.Path + "?" + q.Encode()
	}
	body := PageBody[U]{Content: make([]U, 0, len(page.Items))}
	for _, it := range page.Items {
		body.Content = append(body.Content, render(it))
	}
	body.Meta = PageMeta{Page: page.Number, PageSize: page.Size, FirstPageURL: link(""), Key: "content"}
	cur := c.Query("PageToken")
	body.Meta.URL = link(cur)
	if page.HasNext && len(page.Items) > 0 {
		next := link(domain.NextPageToken(page.Number, sidOf(page.Items[len(page.Items)-1])))
		body.Meta.NextPageURL = &next
	}
	if page.HasPrev {
		prev := link("")
		if page.Number > 1 && len(page.Items) > 0 {
			prev = link(domain.PrevPageToken(page.Number, sidOf(page.Items[0])))
		}
		body.Meta.PreviousPageURL = &prev
	}
	return body
}
