package edge

import (
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/orgaccounts/orgaccounts/api/wire"
	"github.com/orgaccounts/orgaccounts/internal/domain"
)

// PageRequest reads PageSize and PageToken.
func PageRequest(c *gin.Context, prefix string, def, limit int) (domain.PageRequest, error) {
	size, err := domain.ParsePageSize(c.Query("PageSize"), def, limit)
	if err != nil {
		return domain.PageRequest{}, err
	}
	return domain.ParsePageToken(c.Query("PageToken"), prefix, size)
}

// Envelope renders one page: its content (never nil, so an empty page is
// []) and its meta with the links around it, for the handler to put in
// the list's wire page type (wire.AccountPage and the like). Other query
// parameters (filters) are kept in every link.
func Envelope[T, U any](baseURL string, c *gin.Context, page domain.Page[T], sidOf func(T) string, render func(T) U) ([]U, wire.PageMeta) {
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
	content := make([]U, 0, len(page.Items))
	for _, it := range page.Items {
		content = append(content, render(it))
	}
	meta := wire.PageMeta{Page: page.Number, PageSize: page.Size, FirstPageURL: link(""), Key: wire.PageMetaKeyContent}
	meta.URL = link(c.Query("PageToken"))
	if page.HasNext && len(page.Items) > 0 {
		next := link(domain.NextPageToken(page.Number, sidOf(page.Items[len(page.Items)-1])))
		meta.NextPageURL = &next
	}
	if page.HasPrev {
		prev := link("")
		if page.Number > 1 && len(page.Items) > 0 {
			prev = link(domain.PrevPageToken(page.Number, sidOf(page.Items[0])))
		}
		meta.PreviousPageURL = &prev
	}
	return content, meta
}
