package api

import "github.com/gin-gonic/gin"

// registerPeople adds the routes for the users of an account and its
// ownership.
func (s *server) registerPeople(org *gin.RouterGroup) {}
