package api

import "github.com/gin-gonic/gin"

// registerDocs serves the API description and its rendered reference.
func registerDocs(r *gin.Engine) {}
